//! The emulated tenant over real HTTP on loopback: tokens, paging
//! completeness, filters, limits, errors, and the scenario's answer key.

use std::collections::HashSet;

use reqwest::{Client, StatusCode};
use serde_json::Value;

use warroom::emulator::{self, Running, Scenario, Spec};

const END_MS: i64 = 1_795_000_000_000; // a fixed "now" keeps runs comparable

fn spec(scenario: Scenario, signins: u64) -> Spec {
    Spec {
        scenario,
        seed: 7,
        signins,
        days: 30,
        end_ms: END_MS,
    }
}

struct Emu {
    running: Running,
    client: Client,
    token: String,
}

impl Emu {
    async fn start(scenario: Scenario, signins: u64, throttle: bool) -> Emu {
        warroom::install_crypto_provider();
        let options = emulator::Options {
            throttle,
            ..Default::default()
        };
        let running = emulator::start(&spec(scenario, signins), "127.0.0.1:0", options)
            .await
            .expect("emulator starts");
        let client = Client::new();
        let (tenant, id, secret) = credentials(&running);
        let token = token(&client, &running.url, &tenant, &id, &secret).await;
        let token = token["access_token"]
            .as_str()
            .expect("access token")
            .to_owned();
        Emu {
            running,
            client,
            token,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.running.url)
        };
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// Every page of a listing, following `@odata.nextLink`.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(url) = next {
            let (status, _, body) = self.get(&url).await;
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            items.extend(
                body["value"]
                    .as_array()
                    .expect("value array")
                    .iter()
                    .cloned(),
            );
            next = body["@odata.nextLink"].as_str().map(str::to_owned);
        }
        items
    }
}

fn credentials(running: &Running) -> (String, String, String) {
    let t = running.emulator.tenant.read().unwrap();
    (
        t.id.to_string(),
        t.responder.app_id.to_string(),
        t.responder.secret.clone(),
    )
}

async fn token(client: &Client, base: &str, tenant: &str, id: &str, secret: &str) -> Value {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let response = client
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await
        .expect("token request");
    response.json().await.expect("token body")
}

#[tokio::test]
async fn client_credentials_are_checked() {
    warroom::install_crypto_provider();
    let running = emulator::start(
        &spec(Scenario::Clean, 2_000),
        "127.0.0.1:0",
        emulator::Options::default(),
    )
    .await
    .unwrap();
    let client = Client::new();
    let (tenant, id, secret) = credentials(&running);
    let ok = token(&client, &running.url, &tenant, &id, &secret).await;
    assert_eq!(ok["token_type"], "Bearer");
    assert!(ok["expires_in"].as_u64().unwrap() > 3000);
    let by_domain = token(
        &client,
        &running.url,
        "contoso.onmicrosoft.com",
        &id,
        &secret,
    )
    .await;
    assert!(
        by_domain["access_token"].is_string(),
        "tenant by domain name: {by_domain}"
    );
    let wrong = token(&client, &running.url, &tenant, &id, "not-the-secret").await;
    assert_eq!(wrong["error"], "invalid_client");
    assert!(
        wrong["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215:")
    );
    let unknown = token(&client, &running.url, "fabrikam.example", &id, &secret).await;
    assert_eq!(unknown["error"], "invalid_tenant");
    // No token, or a made-up one: 401 with Graph's error body.
    for auth in [None, Some("Bearer forged")] {
        let mut request = client.get(format!("{}/v1.0/users", running.url));
        if let Some(value) = auth {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    }
}

#[tokio::test]
async fn every_sign_in_is_served_exactly_once_across_pages_and_kinds() {
    let emu = Emu::start(Scenario::GoldenSaml, 12_000, false).await;
    let total = emu.running.emulator.tenant.read().unwrap().signins.len();
    let mut ids = HashSet::new();
    let mut count = 0;
    for kind in [
        "interactiveUser",
        "nonInteractiveUser",
        "servicePrincipal",
        "managedIdentity",
    ] {
        let filter = format!("signInEventTypes/any(t: t eq '{kind}')");
        let path = format!(
            "/beta/auditLogs/signIns?$top=700&$filter={}",
            urlencode(&filter)
        );
        let page = emu.all(&path).await;
        let mut last: Option<String> = None;
        for event in &page {
            assert_eq!(event["signInEventTypes"][0], kind);
            let when = event["createdDateTime"].as_str().unwrap().to_owned();
            if let Some(previous) = &last {
                assert!(
                    when <= *previous,
                    "not newest first: {when} after {previous}"
                );
            }
            last = Some(when);
            ids.insert(event["id"].as_str().unwrap().to_owned());
        }
        count += page.len();
    }
    assert_eq!(count, total, "sum over kinds");
    assert_eq!(ids.len(), total, "duplicates across pages");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn filters_select_what_they_say() {
    let emu = Emu::start(Scenario::GoldenSaml, 8_000, false).await;
    // v1.0 without a filter: interactive only.
    let (status, _, body) = emu.get("/v1.0/auditLogs/signIns?$top=50").await;
    assert_eq!(status, StatusCode::OK);
    for e in body["value"].as_array().unwrap() {
        assert_eq!(e["isInteractive"], true);
        assert!(e.get("signInEventTypes").is_none(), "beta field on v1.0");
    }
    // A time window, all kinds except interactive.
    let from = "2026-11-10T00:00:00Z";
    let to = "2026-11-12T00:00:00Z";
    let filter = format!(
        "createdDateTime ge {from} and createdDateTime lt {to} and signInEventTypes/any(t: t ne 'interactiveUser')"
    );
    let items = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(&filter)
        ))
        .await;
    assert!(!items.is_empty());
    for e in &items {
        let when = e["createdDateTime"].as_str().unwrap();
        assert!(when >= from && when < to, "{when} outside the window");
        assert_ne!(e["signInEventTypes"][0], "interactiveUser");
    }
    let expected = {
        let t = emu.running.emulator.tenant.read().unwrap();
        let (lo, hi) = (
            warroom::emulator::time::parse(from).unwrap(),
            warroom::emulator::time::parse(to).unwrap(),
        );
        t.signins
            .records()
            .iter()
            .filter(|r| {
                r.time_ms >= lo
                    && r.time_ms < hi
                    && r.kind != warroom::emulator::signins::Kind::Interactive
            })
            .count()
    };
    assert_eq!(items.len(), expected);
    // One user, by UPN: the compromised admin's forged sign-ins are there.
    let filter = "userPrincipalName eq 'megan.bowen@contoso.com' and signInEventTypes/any(t: t eq 'interactiveUser')";
    let megan = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(filter)
        ))
        .await;
    assert!(
        megan
            .iter()
            .all(|e| e["userPrincipalName"] == "megan.bowen@contoso.com")
    );
    let forged: Vec<_> = megan
        .iter()
        .filter(|e| e["ipAddress"] == "203.0.113.66" && e["status"]["errorCode"] == 0)
        .collect();
    assert!(!forged.is_empty());
    for e in forged {
        assert_eq!(e["authenticationRequirement"], "multiFactorAuthentication");
        assert_eq!(
            e["status"]["additionalDetails"],
            "MFA requirement satisfied by claim in the token"
        );
        assert_eq!(e["tokenIssuerType"], "ADFederationServices");
    }
    // What Graph refuses, the emulator refuses the same way.
    for bad in [
        "/beta/auditLogs/signIns?$top=1001",
        "/beta/auditLogs/signIns?$filter=startswith(appDisplayName,'x')",
        "/v1.0/auditLogs/signIns?$filter=signInEventTypes/any(t:%20t%20eq%20'servicePrincipal')",
        "/beta/auditLogs/signIns?$skiptoken=garbage",
    ] {
        let (status, _, body) = emu.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn limits_are_enforced_as_documented() {
    let emu = Emu::start(Scenario::Clean, 2_000, true).await;
    let mut refused = None;
    for i in 0..6 {
        let (status, headers, body) = emu.get("/v1.0/auditLogs/signIns?$top=1").await;
        if i < 5 {
            assert_eq!(status, StatusCode::OK, "request {i}");
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(body["error"]["code"], "TooManyRequests");
            refused = headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        }
    }
    let wait = refused.expect("Retry-After on a reports 429");
    assert!((1..=10).contains(&wait));
    // Identity Protection: 1 per second, and no Retry-After.
    let (first, _, _) = emu.get("/v1.0/identityProtection/riskDetections").await;
    assert_eq!(first, StatusCode::OK);
    let (second, headers, _) = emu.get("/v1.0/identityProtection/riskDetections").await;
    assert_eq!(second, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get("retry-after").is_none());
    // Directory reads are not throttled.
    for _ in 0..10 {
        assert_eq!(emu.get("/v1.0/users?$top=1").await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn directory_reads_and_federation() {
    let emu = Emu::start(Scenario::GoldenSaml, 4_000, false).await;
    let users = emu.all("/v1.0/users?$top=7").await;
    assert_eq!(
        users.len(),
        emu.running.emulator.tenant.read().unwrap().users.len()
    );
    let ids: HashSet<_> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), users.len());
    let guests = emu.all("/v1.0/users?$filter=userType%20eq%20'Guest'").await;
    assert!(!guests.is_empty() && guests.iter().all(|u| u["userType"] == "Guest"));

    let domains = emu.all("/v1.0/domains").await;
    let federated: Vec<_> = domains
        .iter()
        .filter(|d| d["authenticationType"] == "Federated")
        .collect();
    assert_eq!(federated.len(), 1);
    let (status, _, fc) = emu
        .get(&format!(
            "/v1.0/domains/{}/federationConfiguration",
            federated[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let config = &fc["value"][0];
    assert!(
        config["signingCertificate"]
            .as_str()
            .unwrap()
            .starts_with("MII")
    );
    assert!(
        config["nextSigningCertificate"].is_string(),
        "the attacker's second certificate"
    );
    assert_ne!(
        config["issuerUri"],
        "http://sts.contoso.com/adfs/services/trust"
    );
    let (status, _, _) = emu
        .get("/v1.0/domains/contoso.onmicrosoft.com/federationConfiguration")
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "managed domain has no federation"
    );

    let sps = emu.all("/v1.0/servicePrincipals").await;
    let graph = sps
        .iter()
        .find(|s| s["appId"] == "00000003-0000-0000-c000-000000000000")
        .unwrap();
    let assigned = emu
        .all(&format!(
            "/v1.0/servicePrincipals/{}/appRoleAssignedTo",
            graph["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        assigned
            .iter()
            .any(|a| a["appRoleId"] == "810c84a8-4a9e-49e6-bf7d-12d183f40d01"),
        "someone holds Mail.Read"
    );
    let grants = emu.all("/v1.0/oauth2PermissionGrants").await;
    assert!(grants.iter().any(|g| g["consentType"] == "AllPrincipals"
        && g["scope"].as_str().unwrap().contains("Mail.Read")));
    let roles = emu
        .all("/v1.0/roleManagement/directory/roleAssignments")
        .await;
    assert!(
        roles
            .iter()
            .filter(|r| r["roleDefinitionId"] == "62e90394-69f5-4237-9190-012177145e10")
            .count()
            >= 4
    );
    for path in [
        "/v1.0/groups",
        "/v1.0/applications",
        "/v1.0/identity/conditionalAccess/policies",
        "/v1.0/roleManagement/directory/roleDefinitions",
        "/beta/riskyUsers",
    ] {
        assert!(!emu.all(path).await.is_empty(), "{path}");
    }
    let (status, _, body) = emu.get("/v1.0/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "ResourceNotFound");
}

#[tokio::test]
async fn answer_key_matches_what_is_served() {
    let emu = Emu::start(Scenario::GoldenSaml, 4_000, false).await;
    let (_, _, key) = emu.get("/_emulator/answer-key").await;
    assert_eq!(key["scenario"], "golden-saml");
    let sign_ins = key["sign_in_ids"].as_array().unwrap();
    assert!(sign_ins.len() > 20);
    for id in sign_ins.iter().take(30) {
        let (status, _, e) = emu
            .get(&format!("/beta/auditLogs/signIns/{}", id.as_str().unwrap()))
            .await;
        assert_eq!(status, StatusCode::OK, "{id}");
        let ip = e["ipAddress"].as_str().unwrap();
        assert!(
            key["malicious_ips"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == ip),
            "{ip}"
        );
    }
    let audits = emu.all("/v1.0/auditLogs/directoryAudits").await;
    let audit_ids: HashSet<_> = audits
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    for id in key["audit_ids"].as_array().unwrap() {
        assert!(
            audit_ids.contains(id.as_str().unwrap()),
            "answer-key audit {id} not served"
        );
    }
    let activities: HashSet<_> = audits
        .iter()
        .map(|a| a["activityDisplayName"].as_str().unwrap().to_owned())
        .collect();
    for needed in [
        "Set federation settings on domain",
        "Add service principal credentials",
        "Consent to application",
        "Add member to role",
        "Update application – Certificates and secrets management ",
    ] {
        assert!(activities.contains(needed), "no '{needed}' audit");
    }
    let risks = emu.all("/v1.0/identityProtection/riskDetections").await;
    assert!(
        risks
            .iter()
            .any(|r| r["riskEventType"] == "tokenIssuerAnomaly")
    );
    let failures = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode("ipAddress eq '203.0.113.66'")
        ))
        .await;
    assert!(
        failures.iter().any(|e| e["status"]["errorCode"] == 5000811),
        "no 5000811 after the key roll"
    );
    let debt: HashSet<_> = key["debt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(debt.len(), 24);
}

#[tokio::test]
async fn clean_has_no_attacker_and_the_same_debt() {
    let emu = Emu::start(Scenario::Clean, 4_000, false).await;
    let (_, _, key) = emu.get("/_emulator/answer-key").await;
    for list in [
        "malicious_users",
        "malicious_apps",
        "malicious_ips",
        "sign_in_ids",
        "audit_ids",
        "risk_detection_ids",
    ] {
        assert_eq!(key[list].as_array().unwrap().len(), 0, "{list}");
    }
    assert_eq!(key["debt"].as_array().unwrap().len(), 24);
    let filter = urlencode("ipAddress eq '203.0.113.66'");
    assert!(
        emu.all(&format!("/beta/auditLogs/signIns?$filter={filter}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn hostile_strings_go_over_the_wire_unchanged() {
    let emu = Emu::start(Scenario::Hostile, 4_000, false).await;
    let users = emu.all("/v1.0/users").await;
    assert!(
        users
            .iter()
            .any(|u| u["displayName"].as_str().unwrap().contains("\x1b]52;"))
    );
    assert!(
        users
            .iter()
            .any(|u| u["displayName"].as_str().unwrap().contains('\u{202e}'))
    );
    assert!(
        users
            .iter()
            .any(|u| u["displayName"].as_str().unwrap().len() > 1500)
    );
    let apps = emu.all("/v1.0/applications").await;
    assert!(
        apps.iter()
            .any(|a| a["displayName"].as_str().unwrap().contains('\u{202e}'))
    );
}

#[tokio::test]
async fn the_same_seed_builds_the_same_tenant() {
    let a = emulator::generate::build(&spec(Scenario::GoldenSaml, 3_000));
    let b = emulator::generate::build(&spec(Scenario::GoldenSaml, 3_000));
    assert_eq!(a.id, b.id);
    assert_eq!(a.signins.len(), b.signins.len());
    let first = |t: &warroom::emulator::tenant::Tenant| {
        t.signins
            .records()
            .iter()
            .take(50)
            .map(|r| r.id())
            .collect::<Vec<_>>()
    };
    assert_eq!(first(&a), first(&b));
    assert_eq!(a.answer_key.sign_in_ids, b.answer_key.sign_in_ids);
    let c = emulator::generate::build(&Spec {
        seed: 8,
        ..spec(Scenario::GoldenSaml, 3_000)
    });
    assert_ne!(a.id, c.id);
}

/// The emulator's sign-ins carry every field Microsoft's documented
/// examples have (checked against ../shared/data when it is there).
#[tokio::test]
async fn responses_have_every_documented_field() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/graph");
    if !dir.exists() {
        eprintln!("skipped: ../shared/data is not beside this checkout");
        return;
    }
    let emu = Emu::start(Scenario::GoldenSaml, 3_000, false).await;
    let cases = [
        ("beta/signIns-list.json", "/beta/auditLogs/signIns?$top=5"),
        (
            "v1.0/directoryAudits-list.json",
            "/v1.0/auditLogs/directoryAudits?$top=5",
        ),
        (
            "v1.0/domain-federationConfiguration-list.json",
            "/v1.0/domains/contoso.com/federationConfiguration",
        ),
    ];
    for (file, path) in cases {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let example: Value = serde_json::from_str(&text).unwrap();
        let documented = example["value"][0].as_object().unwrap();
        let (_, _, body) = emu.get(path).await;
        let served = body["value"][0]
            .as_object()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        let missing: Vec<_> = documented
            .keys()
            .filter(|k| !served.contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "{file}: emulator lacks {missing:?}");
    }
}

#[tokio::test]
async fn unified_audit_log_queries_run_then_page_their_records() {
    let emu = Emu::start(Scenario::GoldenSaml, 4_000, false).await;
    let create = |body: Value| {
        let request = emu
            .client
            .post(format!(
                "{}/v1.0/security/auditLog/queries",
                emu.running.url
            ))
            .bearer_auth(&emu.token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, query) = create(serde_json::json!({
        "displayName": "mail read from the attacker's address",
        "filterStartDateTime": "2026-01-01T00:00:00Z",
        "filterEndDateTime": "2027-12-31T00:00:00Z",
        "operationFilters": ["MailItemsAccessed", "New-InboxRule"],
        "ipAddressFilters": ["203.0.113.140", "203.0.113.66"],
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{query}");
    assert_eq!(query["status"], "notStarted");
    let id = query["id"].as_str().unwrap().to_owned();
    let (early, _, _) = emu
        .get(&format!("/v1.0/security/auditLog/queries/{id}/records"))
        .await;
    assert_eq!(
        early,
        StatusCode::BAD_REQUEST,
        "records before the query finished"
    );
    let mut status = String::new();
    for _ in 0..50 {
        let (_, _, q) = emu
            .get(&format!("/v1.0/security/auditLog/queries/{id}"))
            .await;
        status = q["status"].as_str().unwrap().to_owned();
        if status == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "succeeded");
    let records = emu
        .all(&format!(
            "/v1.0/security/auditLog/queries/{id}/records?$top=10"
        ))
        .await;
    let (_, _, key) = emu.get("/_emulator/answer-key").await;
    let expected: HashSet<_> = key["ual_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let served: HashSet<_> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        served, expected,
        "the query finds exactly the attacker's records"
    );
    let rule = records
        .iter()
        .find(|r| r["operation"] == "New-InboxRule")
        .expect("inbox rule");
    let params = rule["auditData"]["Parameters"].as_array().unwrap();
    assert!(params.iter().any(|p| p["Name"] == "ForwardTo"));
    let mail = records
        .iter()
        .filter(|r| r["operation"] == "MailItemsAccessed")
        .count();
    assert!(mail > 5);
    let (bad, _) = create(serde_json::json!({ "filterStartDateTime": "yesterday" })).await;
    assert_eq!(bad, StatusCode::BAD_REQUEST);
}

async fn post_form(client: &Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = client.post(url).form(form).send().await.expect("post");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// RFC 8628 as Entra answers it: pending, slow_down when polled too fast,
/// then tokens with a refresh token that rotates; short-lived access
/// tokens expire with Graph's 401.
#[tokio::test]
async fn device_code_flow_refresh_and_expiry() {
    use std::time::Duration;
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        authority: emulator::oauth::AuthorityOptions {
            token_lifetime: Duration::from_secs(1),
            device_approval_delay: Duration::from_millis(600),
            device_poll_interval: Duration::from_millis(200),
        },
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::Clean, 1_000), "127.0.0.1:0", options)
        .await
        .unwrap();
    let client = Client::new();
    let (tenant, _, _) = credentials(&running);
    let public_client = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
    let base = format!("{}/{tenant}/oauth2/v2.0", running.url);
    let (status, code) = post_form(
        &client,
        &format!("{base}/devicecode"),
        &[
            ("client_id", public_client),
            (
                "scope",
                "AuditLog.Read.All Directory.Read.All offline_access",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{code}");
    for field in [
        "user_code",
        "device_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
    ] {
        assert!(!code[field].is_null(), "{field} missing: {code}");
    }
    let device_code = code["device_code"].as_str().unwrap().to_owned();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", public_client),
        ("device_code", device_code.as_str()),
    ];
    let (status, pending) = post_form(&client, &format!("{base}/token"), &poll).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(pending["error"], "authorization_pending");
    let (_, fast) = post_form(&client, &format!("{base}/token"), &poll).await;
    assert_eq!(fast["error"], "slow_down", "polled again at once");
    tokio::time::sleep(Duration::from_millis(5_300)).await;
    let (status, tokens) = post_form(&client, &format!("{base}/token"), &poll).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, reused) = post_form(&client, &format!("{base}/token"), &poll).await;
    assert_eq!(reused["error"], "invalid_grant", "a device code works once");

    let users = format!("{}/v1.0/users?$top=1", running.url);
    assert_eq!(
        client
            .get(&users)
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expired = client
        .get(&users)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let renew = [
        ("grant_type", "refresh_token"),
        ("client_id", public_client),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, renewed) = post_form(&client, &format!("{base}/token"), &renew).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_ne!(
        renewed["refresh_token"],
        refresh.as_str(),
        "refresh tokens rotate"
    );
    let fresh = renewed["access_token"].as_str().unwrap();
    assert_eq!(
        client
            .get(&users)
            .bearer_auth(fresh)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let (_, again) = post_form(&client, &format!("{base}/token"), &renew).await;
    assert!(
        again["access_token"].is_string(),
        "an earlier refresh token keeps working until revoked: {again}"
    );
}

/// Signs in through the device code flow as the tenant's emergency
/// administrator; returns (access token, refresh token).
async fn device_login(client: &Client, running: &Running) -> (String, String) {
    let (tenant, _, _) = credentials(running);
    let base = format!("{}/{tenant}/oauth2/v2.0", running.url);
    let public_client = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
    let (_, code) = post_form(
        client,
        &format!("{base}/devicecode"),
        &[
            ("client_id", public_client),
            ("scope", "Directory.AccessAsUser.All offline_access"),
        ],
    )
    .await;
    let device_code = code["device_code"].as_str().unwrap().to_owned();
    for _ in 0..50 {
        let poll = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", public_client),
            ("device_code", device_code.as_str()),
        ];
        let (status, body) = post_form(client, &format!("{base}/token"), &poll).await;
        if status == StatusCode::OK {
            return (
                body["access_token"].as_str().unwrap().to_owned(),
                body["refresh_token"].as_str().unwrap().to_owned(),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    }
    panic!("device login never completed");
}

/// A golden-saml tenant and a delegated session of its Global
/// Administrator: (emulator, client, access token, refresh token).
async fn admin_session(signins: u64) -> (Running, Client, String, String) {
    use std::time::Duration;
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        authority: emulator::oauth::AuthorityOptions {
            token_lifetime: Duration::from_secs(600),
            device_approval_delay: Duration::ZERO,
            device_poll_interval: Duration::from_millis(100),
        },
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::GoldenSaml, signins), "127.0.0.1:0", options)
        .await
        .unwrap();
    let client = Client::new();
    let (admin, refresh) = device_login(&client, &running).await;
    (running, client, admin, refresh)
}

#[tokio::test]
async fn remediation_writes_change_the_tenant_and_are_audited() {
    let (running, client, admin, refresh) = admin_session(3_000).await;
    let (tenant, id, secret) = credentials(&running);
    let app_only = token(&client, &running.url, &tenant, &id, &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = |path: &str| format!("{}/v1.0{path}", running.url);
    let get = |path: String, token: String| {
        let request = client.get(url(&path)).bearer_auth(token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // The responder app reads only: a write with its token is refused.
    let megan = get("/users/megan.bowen@contoso.com".into(), admin.clone()).await;
    let megan_id = megan["id"].as_str().unwrap().to_owned();
    let refused = client
        .patch(url(&format!("/users/{megan_id}")))
        .bearer_auth(&app_only)
        .json(&serde_json::json!({"accountEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");

    // Disable the compromised admin.
    let done = client
        .patch(url(&format!("/users/{megan_id}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"accountEnabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(format!("/users/{megan_id}"), admin.clone()).await["accountEnabled"],
        false
    );

    // Remove the secret the attacker added to the mail-reading app.
    let apps = get("/applications".into(), admin.clone()).await;
    let hr = apps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["displayName"] == "Contoso HR Connector")
        .unwrap()
        .clone();
    let backdoor = hr["passwordCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["displayName"] == "backup")
        .unwrap()["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let hr_id = hr["id"].as_str().unwrap();
    let removed = client
        .post(url(&format!("/applications/{hr_id}/removePassword")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"keyId": backdoor}))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let after = get(format!("/applications/{hr_id}"), admin.clone()).await;
    assert!(
        after["passwordCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["keyId"] != backdoor.as_str())
    );
    let again = client
        .post(url(&format!("/applications/{hr_id}/removePassword")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"keyId": backdoor}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "the same key cannot be removed twice"
    );

    // Withdraw the tenant-wide consent and the rogue admin's role.
    let grants = get("/oauth2PermissionGrants".into(), admin.clone()).await;
    let sps = get("/servicePrincipals".into(), admin.clone()).await;
    let archiver = sps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["displayName"] == "Mail Archiver Pro")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grant = grants["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["clientId"] == archiver.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client
            .delete(url(&format!("/oauth2PermissionGrants/{grant}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let rogue = get(
        "/users/svc-adsync-backup@contoso.onmicrosoft.com".into(),
        admin.clone(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = get(
        "/roleManagement/directory/roleAssignments".into(),
        admin.clone(),
    )
    .await;
    let assignment = roles["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["principalId"] == rogue.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client
            .delete(url(&format!(
                "/roleManagement/directory/roleAssignments/{assignment}"
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client
            .delete(url(&format!(
                "/roleManagement/directory/roleAssignments/{assignment}"
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Put the federation trust back.
    let fed = get(
        "/domains/contoso.com/federationConfiguration".into(),
        admin.clone(),
    )
    .await["value"][0]
        .clone();
    let fed_id = fed["id"].as_str().unwrap();
    let fixed = client
        .patch(url(&format!("/domains/contoso.com/federationConfiguration/{fed_id}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"nextSigningCertificate": null, "issuerUri": "http://sts.contoso.com/adfs/services/trust"}))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), StatusCode::OK);
    let fed = get(
        "/domains/contoso.com/federationConfiguration".into(),
        admin.clone(),
    )
    .await["value"][0]
        .clone();
    assert!(fed["nextSigningCertificate"].is_null());
    assert_eq!(
        fed["issuerUri"],
        "http://sts.contoso.com/adfs/services/trust"
    );

    // Revoking the admin's own sessions kills their refresh token.
    let revoke = client
        .post(url(
            "/users/bg-admin01@contoso.onmicrosoft.com/revokeSignInSessions",
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(revoke.json::<Value>().await.unwrap()["value"], true);
    let base = format!("{}/{tenant}/oauth2/v2.0/token", running.url);
    let (_, renewed) = post_form(
        &client,
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "14d82eec-204b-4c2f-b7e8-296a70dab67e"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(renewed["error"], "invalid_grant");
    assert!(
        renewed["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS50173")
    );

    // Every write left its audit, by the administrator.
    let audits = get("/auditLogs/directoryAudits?$top=20".into(), admin.clone()).await;
    let recent: Vec<&str> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["initiatedBy"]["user"]["userPrincipalName"] == "bg-admin01@contoso.onmicrosoft.com"
                && a["initiatedBy"]["user"]["ipAddress"] == "127.0.0.1"
        })
        .map(|a| a["activityDisplayName"].as_str().unwrap())
        .collect();
    for activity in [
        "Disable account",
        "Update application – Certificates and secrets management ",
        "Remove delegated permission grant",
        "Remove member from role",
        "Set federation settings on domain",
        "Update user",
    ] {
        assert!(
            recent.contains(&activity),
            "no audit for '{activity}': {recent:?}"
        );
    }
}

/// With resets, cut JSON, 503s and forgotten page tokens injected, a client
/// that retries and resumes from the oldest event it holds still gets every
/// sign-in exactly once; and every fault kind really happened.
#[tokio::test]
async fn faults_are_injected_and_survivable() {
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        faults: emulator::faults::FaultSpec::parse(
            "reset:0.15,malformed:0.15,503:0.15,page-token:1",
        )
        .unwrap(),
        seed: 3,
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::Clean, 20_000), "127.0.0.1:0", options)
        .await
        .unwrap();
    let client = Client::new();
    let (tenant, id, secret) = credentials(&running);
    let token = token(&client, &running.url, &tenant, &id, &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected: HashSet<String> = {
        let t = running.emulator.tenant.read().unwrap();
        t.signins
            .records()
            .iter()
            .filter(|r| r.kind == warroom::emulator::signins::Kind::Interactive)
            .map(|r| r.id().to_string())
            .collect()
    };
    let first = format!("{}/beta/auditLogs/signIns?$top=300", running.url);
    let mut seen: HashSet<String> = HashSet::new();
    let mut oldest: Option<String> = None;
    let mut url = Some(first.clone());
    let (mut resets, mut malformed, mut unavailable, mut forgotten) = (0, 0, 0, 0);
    let mut attempts = 0;
    while let Some(current) = url.clone() {
        attempts += 1;
        assert!(attempts < 2_000, "no progress");
        let response = match client.get(&current).bearer_auth(&token).send().await {
            Ok(r) => r,
            Err(_) => {
                resets += 1;
                continue;
            }
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(_) => {
                resets += 1;
                continue;
            }
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            unavailable += 1;
            continue;
        }
        if status == StatusCode::BAD_REQUEST {
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("DirectoryPageTokenNotFoundException")
            );
            forgotten += 1;
            // Resume below the oldest event already held; duplicates at the
            // boundary are dropped by id.
            let bound = oldest
                .clone()
                .expect("a page token implies an earlier page");
            url = Some(format!("{first}&$filter=createdDateTime%20le%20{bound}"));
            continue;
        }
        assert_eq!(status, StatusCode::OK);
        let Ok(page) = serde_json::from_slice::<Value>(&bytes) else {
            malformed += 1;
            continue;
        };
        for e in page["value"].as_array().unwrap() {
            seen.insert(e["id"].as_str().unwrap().to_owned());
            let when = e["createdDateTime"].as_str().unwrap().to_owned();
            if oldest.as_ref().is_none_or(|o| when < *o) {
                oldest = Some(when);
            }
        }
        url = page["@odata.nextLink"].as_str().map(str::to_owned);
        // Replay the page token once to meet the forgotten-token fault.
        if let Some(next) = &url
            && forgotten == 0
            && seen.len() > 600
        {
            let _ = client
                .get(next)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await;
        }
    }
    assert_eq!(seen, expected, "lost or invented events under faults");
    assert!(
        resets > 0 && malformed > 0 && unavailable > 0 && forgotten > 0,
        "resets {resets}, malformed {malformed}, 503 {unavailable}, forgotten tokens {forgotten}"
    );
}

/// With `--live`, new sign-ins keep arriving (some of them late), the
/// attacker's app keeps signing in, and paging stays exact.
#[tokio::test]
async fn live_events_keep_arriving() {
    use warroom::emulator::{live, time};
    let mut tenant = emulator::generate::build(&spec(Scenario::GoldenSaml, 2_000));
    let before = tenant.signins.len();
    let start = time::now_ms();
    for second in 0..120 {
        live::advance(&mut tenant, start + second * 1000, 600);
    }
    let added = tenant.signins.len() - before;
    assert!(
        (1150..=1300).contains(&added),
        "{added} new sign-ins for 2 minutes at 600/min"
    );
    let records = tenant.signins.records();
    assert!(
        records
            .windows(2)
            .all(|w| (w[0].time_ms, w[0].key) <= (w[1].time_ms, w[1].key)),
        "kept in order"
    );
    let late = records
        .iter()
        .filter(|r| r.time_ms < start - 30_000 && r.time_ms > start - 6 * 60_000)
        .count();
    assert!(late > 0, "some events are ingested late");

    // Over HTTP, with the live task running.
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        live_per_minute: Some(1200),
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::GoldenSaml, 1_000), "127.0.0.1:0", options)
        .await
        .unwrap();
    let count = || running.emulator.tenant.read().unwrap().signins.len();
    let first = count();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert!(
        count() >= first + 20,
        "live task adds events: {first} -> {}",
        count()
    );
}

/// Signs a client assertion with the test key (RS256, `x5t#S256`).
fn assertion(claims: Value, thumbprint_of: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let key = std::fs::read(dir.join("responder-test-key.pk8")).unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&key).unwrap();
    let thumbprint = b64.encode(ring::digest::digest(&ring::digest::SHA256, thumbprint_of));
    let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": thumbprint });
    let signed = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", b64.encode(signature))
}

#[tokio::test]
async fn certificate_client_assertions_are_verified() {
    warroom::install_crypto_provider();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert = std::fs::read(dir.join("responder-test-cert.der")).unwrap();
    let options = emulator::Options {
        responder_certificate: Some(cert.clone()),
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::Clean, 1_000), "127.0.0.1:0", options)
        .await
        .unwrap();
    let client = Client::new();
    let (tenant, id, _) = credentials(&running);
    let endpoint = format!("{}/{tenant}/oauth2/v2.0/token", running.url);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = |jti: &str, aud: &str, exp: i64| serde_json::json!({ "aud": aud, "iss": id, "sub": id, "jti": jti, "nbf": now - 10, "exp": exp });
    let exchange = |jwt: String| {
        let form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), id.clone()),
            (
                "scope".to_owned(),
                "https://graph.microsoft.com/.default".to_owned(),
            ),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion".to_owned(), jwt),
        ];
        let request = client.post(&endpoint).form(&form);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let good = assertion(claims("one", &endpoint, now + 600), &cert);
    let ok = exchange(good.clone()).await;
    assert!(ok["access_token"].is_string(), "{ok}");
    let code = |v: &Value| v["error_codes"][0].as_u64().unwrap();
    assert_eq!(code(&exchange(good.clone()).await), 700025, "replayed jti");
    assert_eq!(
        code(
            &exchange(assertion(
                claims("two", "https://elsewhere.example/token", now + 600),
                &cert
            ))
            .await
        ),
        700016
    );
    assert_eq!(
        code(&exchange(assertion(claims("three", &endpoint, now - 3600), &cert)).await),
        700024
    );
    assert_eq!(
        code(
            &exchange(assertion(
                claims("four", &endpoint, now + 600),
                b"another certificate"
            ))
            .await
        ),
        700027
    );
    let mut tampered = assertion(claims("five", &endpoint, now + 600), &cert);
    tampered.insert(tampered.find('.').unwrap() + 2, 'A');
    let refused = exchange(tampered).await;
    assert!(matches!(code(&refused), 700027 | 50027), "{refused}");
    // The certificate shows on the responder's registration.
    let apps = running
        .emulator
        .tenant
        .read()
        .unwrap()
        .applications
        .iter()
        .any(|a| {
            a.display == "warroom Responder"
                && a.credentials
                    .iter()
                    .any(|c| c.kind == warroom::emulator::directory::CredentialKind::Certificate)
        });
    assert!(apps);
}

/// Each injected fault, alone at rate 1, answers as it should.
#[tokio::test]
async fn each_fault_kind_answers_as_documented() {
    warroom::install_crypto_provider();
    for (kind, want_status, retry_after) in [
        ("429", Some(429), Some("1")),
        ("500", Some(500), None),
        ("503", Some(503), Some("2")),
        ("504", Some(504), None),
        ("malformed", Some(200), None),
        ("reset", None, None),
    ] {
        let options = emulator::Options {
            throttle: false,
            faults: emulator::faults::FaultSpec::parse(&format!("{kind}:1")).unwrap(),
            ..Default::default()
        };
        let running = emulator::start(&spec(Scenario::Clean, 500), "127.0.0.1:0", options)
            .await
            .unwrap();
        let client = Client::new();
        let (tenant, id, secret) = credentials(&running);
        let token = token(&client, &running.url, &tenant, &id, &secret).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let result = client
            .get(format!("{}/beta/auditLogs/signIns", running.url))
            .bearer_auth(&token)
            .send()
            .await;
        match want_status {
            None => {
                // The connection drops mid-body: the client sees an error.
                let failed = match result {
                    Err(_) => true,
                    Ok(r) => r.bytes().await.is_err(),
                };
                assert!(failed, "{kind}: body arrived whole");
            }
            Some(status) => {
                let response = result.unwrap();
                assert_eq!(response.status().as_u16(), status, "{kind}");
                assert_eq!(
                    response
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .as_deref(),
                    retry_after,
                    "{kind}"
                );
                let body = response.bytes().await.unwrap();
                let parsed = serde_json::from_slice::<Value>(&body);
                if kind == "malformed" {
                    assert!(parsed.is_err(), "malformed page parsed");
                } else {
                    assert!(
                        parsed.unwrap()["error"]["code"].is_string(),
                        "{kind}: Graph error body"
                    );
                }
            }
        }
    }
    // `slow` holds the answer back.
    let options = emulator::Options {
        throttle: false,
        faults: emulator::faults::FaultSpec::parse("slow:1").unwrap(),
        ..Default::default()
    };
    let running = emulator::start(&spec(Scenario::Clean, 500), "127.0.0.1:0", options)
        .await
        .unwrap();
    let client = Client::new();
    let (tenant, id, secret) = credentials(&running);
    let token = token(&client, &running.url, &tenant, &id, &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    let r = client
        .get(format!("{}/v1.0/users?$top=1", running.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(started.elapsed() >= emulator::faults::SLOW_DELAY);
}

#[tokio::test]
async fn more_filters_select_what_they_say() {
    let emu = Emu::start(Scenario::GoldenSaml, 6_000, false).await;
    let some: Vec<Value> = emu.all("/beta/auditLogs/signIns?$top=5&$filter=signInEventTypes/any(t:%20t%20eq%20'servicePrincipal')").await.into_iter().take(5).collect();
    let one = &some[0];
    let by_id = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(&format!("id eq '{}'", one["id"].as_str().unwrap()))
        ))
        .await;
    // `id` reaches every kind? No: without an event-type filter only
    // interactive sign-ins are listed, as in Graph.
    assert!(by_id.is_empty());
    let by_id = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(&format!(
                "id eq '{}' and signInEventTypes/any(t: t eq 'servicePrincipal')",
                one["id"].as_str().unwrap()
            ))
        ))
        .await;
    assert_eq!(by_id.len(), 1);
    let app = one["appId"].as_str().unwrap();
    let by_app = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(&format!(
                "appId eq '{app}' and signInEventTypes/any(t: t eq 'servicePrincipal')"
            ))
        ))
        .await;
    assert!(!by_app.is_empty() && by_app.iter().all(|e| e["appId"] == app));
    let user = emu.all("/beta/auditLogs/signIns?$top=1").await[0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_user = emu
        .all(&format!(
            "/beta/auditLogs/signIns?$filter={}",
            urlencode(&format!("userId eq '{user}'"))
        ))
        .await;
    assert!(!by_user.is_empty() && by_user.iter().all(|e| e["userId"] == user.as_str()));

    let roles = emu
        .all(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter={}",
            urlencode("category eq 'RoleManagement'")
        ))
        .await;
    assert!(!roles.is_empty() && roles.iter().all(|a| a["category"] == "RoleManagement"));
    let fed = emu
        .all(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter={}",
            urlencode("activityDisplayName eq 'Set federation settings on domain'")
        ))
        .await;
    assert_eq!(fed.len(), 2, "the attacker's change and the key roll");
    let recent = emu
        .all(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter={}",
            urlencode("activityDateTime ge 2026-11-20T00:00:00Z")
        ))
        .await;
    assert!(
        recent
            .iter()
            .all(|a| a["activityDateTime"].as_str().unwrap() >= "2026-11-20T00:00:00Z")
    );
    let risks = emu
        .all(&format!(
            "/v1.0/identityProtection/riskDetections?$filter={}",
            urlencode("detectedDateTime ge 2030-01-01T00:00:00Z")
        ))
        .await;
    assert!(risks.is_empty());
    let by_app_id = emu
        .all(&format!(
            "/v1.0/servicePrincipals?$filter={}",
            urlencode("appId eq '00000002-0000-0ff1-ce00-000000000000'")
        ))
        .await;
    assert_eq!(by_app_id.len(), 1);
    assert_eq!(by_app_id[0]["displayName"], "Office 365 Exchange Online");
}

#[tokio::test]
async fn pim_and_authentication_methods_show_the_debt() {
    let emu = Emu::start(Scenario::GoldenSaml, 2_000, false).await;
    let users = emu.all("/v1.0/users").await;
    let id_of = |upn: &str| {
        users
            .iter()
            .find(|u| u["userPrincipalName"] == upn)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let instances = emu
        .all("/v1.0/roleManagement/directory/roleAssignmentScheduleInstances")
        .await;
    let of = |upn: &str| {
        instances
            .iter()
            .find(|i| i["principalId"] == id_of(upn).as_str())
            .unwrap()
            .clone()
    };
    let adele = of("adele.vance@contoso.onmicrosoft.com");
    assert_eq!(adele["assignmentType"], "Assigned");
    assert!(adele["endDateTime"].is_null(), "standing, outside PIM");
    assert_eq!(of("megan.bowen@contoso.com")["assignmentType"], "Activated");
    assert_eq!(
        of("svc-adsync-backup@contoso.onmicrosoft.com")["assignmentType"],
        "Assigned"
    );
    let eligible = emu
        .all("/v1.0/roleManagement/directory/roleEligibilitySchedules")
        .await;
    assert!(
        eligible
            .iter()
            .any(|e| e["principalId"] == id_of("megan.bowen@contoso.com").as_str())
    );
    let grady = emu
        .all(&format!(
            "/v1.0/users/{}/authentication/methods",
            id_of("grady.archie@contoso.com")
        ))
        .await;
    assert_eq!(grady.len(), 1);
    assert_eq!(
        grady[0]["@odata.type"],
        "#microsoft.graph.passwordAuthenticationMethod"
    );
    let megan = emu
        .all(&format!(
            "/v1.0/users/{}/authentication/methods",
            id_of("megan.bowen@contoso.com")
        ))
        .await;
    assert!(
        megan
            .iter()
            .any(|m| m["@odata.type"]
                == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
    );
}

#[tokio::test]
async fn the_other_remediation_writes() {
    let (running, client, admin, _) = admin_session(2_000).await;
    let url = |path: &str| format!("{}/v1.0{path}", running.url);
    let get = |path: String| {
        let request = client.get(url(&path)).bearer_auth(admin.clone());
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let sps = get("/servicePrincipals".into()).await;
    let hr = sps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["displayName"] == "Contoso HR Connector")
        .unwrap()
        .clone();
    let hr_id = hr["id"].as_str().unwrap().to_owned();
    let backdoor = hr["passwordCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["displayName"] == "backup")
        .unwrap()["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .post(url(&format!("/servicePrincipals/{hr_id}/removePassword")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"keyId": backdoor}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Take Mail.Read away from the app.
    let graph = sps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["appId"] == "00000003-0000-0000-c000-000000000000")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assigned = get(format!("/servicePrincipals/{graph}/appRoleAssignedTo")).await;
    let mail_read = assigned["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["principalId"] == hr_id.as_str()
                && a["appRoleId"] == "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .delete(url(&format!(
            "/servicePrincipals/{graph}/appRoleAssignedTo/{mail_read}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let assigned = get(format!("/servicePrincipals/{graph}/appRoleAssignedTo")).await;
    assert!(
        assigned["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != mail_read.as_str())
    );
    // Replace an app's certificates with none.
    let apps = get("/applications".into()).await;
    let responder = apps["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["displayName"] == "Payroll Sync")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .patch(url(&format!("/applications/{responder}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"keyCredentials": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Reset a password, then turn the domain back to managed.
    let r = client.patch(url("/users/patti.fernandez@contoso.com")).bearer_auth(&admin).json(&serde_json::json!({"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Tr0ub4dor&3-horse-staple"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let fed = get("/domains/contoso.com/federationConfiguration".into()).await["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = client
        .delete(url(&format!(
            "/domains/contoso.com/federationConfiguration/{fed}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get("/domains/contoso.com".into()).await["authenticationType"],
        "Managed"
    );
    let r = client
        .get(url("/domains/contoso.com/federationConfiguration"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A malformed body is a 400, and nothing changes.
    let r = client
        .post(url(&format!("/servicePrincipals/{hr_id}/removePassword")))
        .bearer_auth(&admin)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let audits = get("/auditLogs/directoryAudits?$top=15".into()).await;
    let names: Vec<&str> = audits["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["activityDisplayName"].as_str().unwrap())
        .collect();
    for activity in [
        "Remove service principal credentials",
        "Remove app role assignment from service principal",
        "Reset user password",
        "Set domain authentication",
        "Update application – Certificates and secrets management ",
    ] {
        assert!(
            names.contains(&activity),
            "no audit for '{activity}': {names:?}"
        );
    }
}
