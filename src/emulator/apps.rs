//! The tenant's applications and service principals: first-party and
//! third-party apps with their credentials, application permissions and
//! delegated grants.

use super::catalog::{self, graph_app_role};
use super::directory::{
    AppRoleAssignment, Application, Credential, CredentialKind, PermissionGrant, PrincipalType,
    ServicePrincipal,
};
use super::generate::{Build, who};
use super::story;
use super::time::{DAY, HOUR};

pub(super) fn credential(
    b: &mut Build,
    kind: CredentialKind,
    display: &str,
    start_ms: i64,
) -> Credential {
    Credential {
        key_id: b.ids.next_guid(),
        kind,
        display: display.into(),
        start_ms,
        end_ms: start_ms + 730 * DAY,
        hint: b.rng.alphanumeric().to_string() + &b.rng.alphanumeric().to_string() + "Q",
    }
}

/// A tenant-owned application with its service principal; returns the
/// service principal's index.
pub fn application(
    b: &mut Build,
    display: &str,
    required: Vec<(&'static str, &'static str, &'static str)>,
    multi_tenant: bool,
    created_ms: i64,
) -> usize {
    let app_id = b.ids.next_guid();
    let cred = credential(b, CredentialKind::Password, "prod", created_ms);
    // Contoso's cloud administrator registers the company's apps.
    let owner = b.tenant.users.get(who::ADELE).map(|u| u.id);
    let app = Application {
        id: b.ids.next_guid(),
        app_id,
        display: display.into(),
        created_ms,
        credentials: vec![cred],
        required,
        multi_tenant,
        instance_lock: false,
        owners: owner.into_iter().collect(),
    };
    b.tenant.applications.push(app);
    service_principal(
        b,
        display,
        &app_id.to_string(),
        &b.tenant.id.to_string(),
        PrincipalType::Application,
        created_ms,
    )
}

pub fn service_principal(
    b: &mut Build,
    display: &str,
    app_id: &str,
    owner: &str,
    kind: PrincipalType,
    created_ms: i64,
) -> usize {
    let id = b.ids.next_guid();
    b.tenant.service_principals.push(ServicePrincipal {
        id,
        app_id: app_id.into(),
        display: display.into(),
        owner_tenant: owner.into(),
        kind,
        credentials: Vec::new(),
        app_roles: Vec::new(),
        created_ms,
        assignment_required: false,
    });
    b.tenant.service_principals.len() - 1
}

/// Grants an application permission (app role) to a service principal.
pub fn grant_app_role(
    b: &mut Build,
    sp: usize,
    resource: usize,
    role: &'static str,
    created_ms: i64,
) {
    let key = b.key();
    let principal = &b.tenant.service_principals[sp];
    let resource_sp = &b.tenant.service_principals[resource];
    b.tenant.app_role_assignments.push(AppRoleAssignment {
        id: opaque_id(key),
        principal_id: principal.id,
        principal_display: principal.display.clone(),
        resource_id: resource_sp.id,
        resource_display: resource_sp.display.clone(),
        app_role_id: role,
        created_ms,
    });
}

/// The URL-safe base64 ids Graph gives grants and app role assignments.
pub fn opaque_id(key: u64) -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(24);
    for i in 0..3 {
        bytes.extend(super::ids::mix(key ^ i).to_le_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn delegated_grant(
    b: &mut Build,
    client: usize,
    resource: usize,
    scope: &str,
    all: bool,
) -> String {
    let key = b.key();
    let id = opaque_id(key);
    b.tenant.grants.push(PermissionGrant {
        id: id.clone(),
        client_id: b.tenant.service_principals[client].id,
        all_principals: all,
        principal_id: None,
        resource_id: b.tenant.service_principals[resource].id,
        scope: scope.into(),
    });
    id
}

pub(super) fn applications(b: &mut Build) {
    let owner = catalog::MICROSOFT_TENANT;
    let long_ago = b.start_ms - 900 * DAY;
    let graph = service_principal(
        b,
        "Microsoft Graph",
        catalog::GRAPH_APP_ID,
        owner,
        PrincipalType::Application,
        long_ago,
    );
    b.tenant.service_principals[graph].app_roles = graph_app_role::ALL.to_vec();
    let exchange = service_principal(
        b,
        "Office 365 Exchange Online",
        catalog::EXCHANGE_APP_ID,
        owner,
        PrincipalType::Application,
        long_ago,
    );
    b.tenant.service_principals[exchange].app_roles =
        vec![(catalog::EXCHANGE_FULL_ACCESS_AS_APP, "full_access_as_app")];
    service_principal(
        b,
        "Office 365 SharePoint Online",
        catalog::SHAREPOINT_APP_ID,
        owner,
        PrincipalType::Application,
        long_ago,
    );

    let t = |days: i64| b.start_ms - days * DAY;
    let (d400, d300, d250, d500, d180) = (t(400), t(300), t(250), t(500), t(180));
    use graph_app_role as r;
    let g = catalog::GRAPH_APP_ID;
    let hr = application(
        b,
        story::BACKDOORED_APP,
        vec![(g, r::MAIL_READ, "Role"), (g, r::USER_READ_ALL, "Role")],
        false,
        d400,
    );
    grant_app_role(b, hr, graph, r::MAIL_READ, d400);
    grant_app_role(b, hr, graph, r::USER_READ_ALL, d400);
    let payroll = application(
        b,
        "Payroll Sync",
        vec![(g, r::FILES_READ_ALL, "Role")],
        false,
        d300,
    );
    grant_app_role(b, payroll, graph, r::FILES_READ_ALL, d300);
    let automation = application(
        b,
        "IT Automation",
        vec![(g, r::ROLE_MANAGEMENT_READ_WRITE_DIRECTORY, "Role")],
        false,
        d250,
    );
    grant_app_role(
        b,
        automation,
        graph,
        r::ROLE_MANAGEMENT_READ_WRITE_DIRECTORY,
        d250,
    );
    let archiver = application(
        b,
        "Journal Archiver",
        vec![(
            catalog::EXCHANGE_APP_ID,
            catalog::EXCHANGE_FULL_ACCESS_AS_APP,
            "Role",
        )],
        false,
        d500,
    );
    grant_app_role(
        b,
        archiver,
        exchange,
        catalog::EXCHANGE_FULL_ACCESS_AS_APP,
        d500,
    );
    let intranet = application(
        b,
        "Contoso Intranet",
        vec![(g, "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "Scope")],
        false,
        d500,
    );
    delegated_grant(b, intranet, graph, "User.Read openid profile", true);
    let analytics = application(b, "Marketing Analytics", vec![], true, d180);
    delegated_grant(
        b,
        analytics,
        graph,
        "Mail.ReadWrite Directory.ReadWrite.All offline_access",
        true,
    );

    // The responder's own app for this run: read what the investigation needs.
    let responder = b.tenant.responder.app_id;
    b.tenant.applications.push(Application {
        id: b.ids.next_guid(),
        app_id: responder,
        display: "warroom Responder".into(),
        created_ms: b.end_ms - HOUR,
        credentials: Vec::new(),
        required: vec![
            (g, r::AUDIT_LOG_READ_ALL, "Role"),
            (g, r::DIRECTORY_READ_ALL, "Role"),
            (g, r::APPLICATION_READ_WRITE_ALL, "Role"),
        ],
        multi_tenant: false,
        instance_lock: false,
        owners: Vec::new(),
    });
    let responder_sp = service_principal(
        b,
        "warroom Responder",
        &responder.to_string(),
        &b.tenant.id.to_string(),
        PrincipalType::Application,
        b.end_ms - HOUR,
    );
    grant_app_role(
        b,
        responder_sp,
        graph,
        r::AUDIT_LOG_READ_ALL,
        b.end_ms - HOUR,
    );
    grant_app_role(
        b,
        responder_sp,
        graph,
        r::DIRECTORY_READ_ALL,
        b.end_ms - HOUR,
    );
    // So tests can change the tenant as an attacker would (add a secret to
    // an app) with the run's own credentials.
    grant_app_role(
        b,
        responder_sp,
        graph,
        r::APPLICATION_READ_WRITE_ALL,
        b.end_ms - HOUR,
    );

    for name in ["func-invoice-prod", "vm-build-agent-01"] {
        let app_id = b.ids.next_guid().to_string();
        let owner = b.tenant.id.to_string();
        service_principal(
            b,
            name,
            &app_id,
            &owner,
            PrincipalType::ManagedIdentity,
            d180,
        );
    }
}
