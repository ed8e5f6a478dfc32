//! Checklist actions against the emulated tenant over HTTP, as against
//! Graph: each reads the before-state, sends its write once, reads the
//! object again and says whether the change is there. Also: a write the
//! token may not make is refused and named, a dry run changes nothing, a
//! write whose answer never comes is not sent again, and a repeat finds
//! nothing left to do.

use std::sync::Arc;
use std::time::Duration;

use warroom::config::AuthMethod;
use warroom::emulator::{self, Running, Scenario, Spec};
use warroom::playbook::act::{self, Target};
use warroom::playbook::template::Action;
use warroom::source::graph::client::WriteOutcome;
use warroom::source::graph::{GraphClient, budget::Family};

/// A golden-saml tenant and a client signed in (device code) as its Global
/// Administrator, plus the read-only responder app's client.
async fn tenant() -> (Running, Arc<GraphClient>, Arc<GraphClient>) {
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        authority: emulator::oauth::AuthorityOptions {
            token_lifetime: Duration::from_secs(600),
            device_approval_delay: Duration::ZERO,
            device_poll_interval: Duration::from_millis(100),
        },
        // The responder app holds a certificate too, to remove one.
        responder_certificate: Some(
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/responder-test-cert.der"
            ))
            .unwrap(),
        ),
        ..Default::default()
    };
    let spec = Spec {
        scenario: Scenario::GoldenSaml,
        seed: 7,
        signins: 500,
        days: 7,
        end_ms: jiff::Timestamp::now().as_millisecond(),
    };
    let running = emulator::start(&spec, "127.0.0.1:0", options)
        .await
        .unwrap();
    let reader = warroom::source::graph::connect(&running.responder_settings(), None).unwrap();
    let mut settings = running.responder_settings();
    settings.auth = AuthMethod::DeviceCode;
    let quiet: warroom::source::graph::auth::Announce = Arc::new(|_| {});
    let admin = warroom::source::graph::connect(&settings, Some(quiet)).unwrap();
    (running, admin, reader)
}

fn target(action: Action, value: &str) -> Target {
    Target {
        item: format!("item:{value}"),
        action,
        value: value.into(),
    }
}

#[tokio::test]
async fn revoking_sessions_and_disabling_an_account_change_the_user_once() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    let upn = "bg-admin01@contoso.onmicrosoft.com";
    let prepared = act::prepare(&admin, &base, &target(Action::RevokeSessions, upn), false)
        .await
        .unwrap();
    assert_eq!(prepared.confirm_word(), upn);
    assert!(prepared.request_text().starts_with("POST "));
    assert!(
        prepared.url.ends_with("/revokeSignInSessions"),
        "{}",
        prepared.url
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let done = act::execute(&admin, &base, prepared).await;
    assert!(
        matches!(done.outcome, WriteOutcome::Done { status: 200, .. }),
        "{:?}",
        done.outcome
    );
    assert!(done.verified, "{}", done.summary);
    assert!(
        done.summary.contains("read again shows the change"),
        "{}",
        done.summary
    );

    let prepared = act::prepare(&admin, &base, &target(Action::DisableAccount, upn), false)
        .await
        .unwrap();
    assert_eq!(prepared.before["accountEnabled"], true);
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
    assert_eq!(done.after.unwrap()["accountEnabled"], false);
    // The tenant's audit log says who did it, as Entra ID's would.
    let audits = admin
        .page(
            &format!("{base}/v1.0/auditLogs/directoryAudits?$top=50"),
            Family::Reports,
        )
        .await
        .unwrap();
    assert!(
        audits
            .value
            .iter()
            .any(|a| a["activityDisplayName"] == "Disable account"),
        "no audit of the change"
    );
}

#[tokio::test]
async fn removing_an_added_credential_and_trying_again() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    let apps = admin
        .page(&format!("{base}/v1.0/applications"), Family::Directory)
        .await
        .unwrap();
    let (app, key) = apps
        .value
        .iter()
        .find_map(|a| {
            let key = a["passwordCredentials"].as_array()?.first()?["keyId"].as_str()?;
            Some((a["displayName"].as_str()?.to_owned(), key.to_owned()))
        })
        .expect("an application with a secret");
    let prepared = act::prepare(
        &admin,
        &base,
        &target(Action::RemoveCredential, &key),
        false,
    )
    .await
    .unwrap();
    assert_eq!(prepared.object_name, app);
    assert_eq!(prepared.before["credential"]["keyId"], key.as_str());
    assert!(prepared.request_text().contains(&key));
    let done = act::execute(&admin, &base, prepared.clone()).await;
    assert!(done.verified, "{}", done.summary);
    // Done twice is refused by Graph and changes nothing more; preparing
    // again finds nothing to remove.
    let again = act::execute(&admin, &base, prepared).await;
    assert!(
        matches!(again.outcome, WriteOutcome::Refused { .. }),
        "{:?}",
        again.outcome
    );
    let gone = act::prepare(
        &admin,
        &base,
        &target(Action::RemoveCredential, &key),
        false,
    )
    .await
    .unwrap_err();
    assert!(gone.contains("gone already"), "{gone}");
}

#[tokio::test]
async fn refused_dry_run_and_unknown_outcomes_change_nothing_twice() {
    let (running, admin, reader) = tenant().await;
    let base = running.url.clone();
    let upn = "megan.bowen@contoso.com";
    let before = admin
        .get(&format!("{base}/v1.0/users/{upn}"), Family::Directory)
        .await
        .unwrap();

    // The responder app reads only: Graph refuses, and the permission is named.
    let prepared = act::prepare(&reader, &base, &target(Action::DisableAccount, upn), false)
        .await
        .unwrap();
    let refused = act::execute(&reader, &base, prepared).await;
    assert!(
        matches!(refused.outcome, WriteOutcome::Refused { status: 403, .. }),
        "{:?}",
        refused.outcome
    );
    assert!(!refused.verified);
    assert!(
        refused.summary.contains("User.EnableDisableAccount.All"),
        "{}",
        refused.summary
    );

    // A dry run prepares everything and sends nothing.
    let dry = act::prepare(&admin, &base, &target(Action::DisableAccount, upn), true)
        .await
        .unwrap();
    assert!(dry.dry_run);

    // No answer at all: not sent again, and the object read again says it
    // did not happen.
    let mut lost = act::prepare(&admin, &base, &target(Action::DisableAccount, upn), false)
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    lost.url = format!("http://127.0.0.1:{closed}/v1.0/users/{}", lost.object_id);
    let unknown = act::execute(&admin, &base, lost).await;
    assert!(
        matches!(unknown.outcome, WriteOutcome::Unknown { .. }),
        "{:?}",
        unknown.outcome
    );
    assert!(!unknown.verified);
    assert!(
        unknown.summary.contains("not sent again"),
        "{}",
        unknown.summary
    );

    let after = admin
        .get(&format!("{base}/v1.0/users/{upn}"), Family::Directory)
        .await
        .unwrap();
    assert_eq!(before["accountEnabled"], after["accountEnabled"]);
    assert_eq!(after["accountEnabled"], true);
}

#[tokio::test]
async fn removing_the_trust_and_a_role_assignment() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    // The golden-saml tenant federates contoso.com.
    let prepared = act::prepare(
        &admin,
        &base,
        &target(Action::ConvertDomain, "contoso.com"),
        false,
    )
    .await
    .unwrap();
    assert!(
        prepared.request_text().starts_with("DELETE "),
        "{}",
        prepared.request_text()
    );
    assert!(prepared.before["federationConfiguration"]["issuerUri"].is_string());
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
    assert_eq!(done.after.unwrap()["authenticationType"], "Managed");
    let again = act::prepare(
        &admin,
        &base,
        &target(Action::ConvertDomain, "contoso.com"),
        false,
    )
    .await
    .unwrap_err();
    assert!(again.contains("no federation to remove"), "{again}");

    // Someone holding a privileged role: the first such assignment goes.
    let assignments = admin
        .page(
            &format!("{base}/v1.0/roleManagement/directory/roleAssignments"),
            Family::Directory,
        )
        .await
        .unwrap();
    let holder = assignments
        .value
        .iter()
        .filter(|a| {
            a["roleDefinitionId"]
                .as_str()
                .is_some_and(warroom::model::roles::is_privileged_template)
        })
        .find_map(|a| {
            let id = a["principalId"].as_str()?;
            user_name(&running, id)
        })
        .expect("a user with a privileged role");
    let prepared = act::prepare(
        &admin,
        &base,
        &target(Action::RemoveRoleAssignment, &holder),
        false,
    )
    .await
    .unwrap();
    assert_eq!(prepared.confirm_word(), holder);
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
}

/// The principal name of a user id, from the tenant itself.
fn user_name(running: &Running, id: &str) -> Option<String> {
    let tenant = running.emulator.tenant.read().unwrap();
    tenant
        .users
        .iter()
        .skip(1) // not the emergency administrator the test signs in as
        .find(|u| u.id.to_string() == id)
        .map(|u| u.upn.clone())
}

#[tokio::test]
async fn the_golden_saml_findings_make_concrete_items() {
    let (running, _, reader) = tenant().await;
    let base = running.url.clone();
    let mut engine = warroom::detect::Engine::built_in().unwrap();
    let mut next = Some(format!("{base}/v1.0/auditLogs/directoryAudits?$top=500"));
    let mut n = 0;
    while let Some(url) = next {
        let page = reader.page(&url, Family::Reports).await.unwrap();
        for value in page.value {
            n += 1;
            if let Some(event) = warroom::detect::Event::new(value, || format!("#{n}")) {
                engine.observe(&event);
            }
        }
        next = page.next_link;
    }
    let findings: Vec<_> = engine
        .findings()
        .iter()
        .map(warroom::app::findings::FindingRow::from_finding)
        .collect();
    let mut plan = warroom::playbook::Plan::new(warroom::playbook::Template::shared());
    plan.set_findings(&findings);
    let keys: Vec<&str> = plan.items().iter().map(|i| i.key.as_str()).collect();
    for wanted in [
        "review-federation-trust:contoso.com",
        "remove-trust:contoso.com",
        "revoke-sessions:megan.bowen@contoso.com",
        "disable-attacker-accounts:svc-adsync-backup@contoso.onmicrosoft.com",
        "remove-unneeded-admins:svc-adsync-backup@contoso.onmicrosoft.com",
    ] {
        assert!(keys.contains(&wanted), "{wanted} missing from {keys:?}");
    }
    // The break-glass account's routine certificate roll locks nobody out.
    assert!(!keys.iter().any(|k| k.contains("bg-admin01")), "{keys:?}");
    assert!(
        plan.withheld()
            .iter()
            .any(|w| w.target.as_str() == "bg-admin01@contoso.onmicrosoft.com")
    );
    // The credential is removed wherever it lives.
    for item in ["remove-added-credentials:", "remove-added-sp-credentials:"] {
        assert!(keys.iter().any(|k| k.starts_with(item)), "{item}: {keys:?}");
    }
    // Containment of the attacker's account waits on no review.
    let svc = plan
        .items()
        .iter()
        .find(|i| i.key == "remove-unneeded-admins:svc-adsync-backup@contoso.onmicrosoft.com")
        .unwrap();
    assert_eq!(
        plan.blockers(svc, jiff::Timestamp::now()),
        Vec::<String>::new()
    );
    // One item per object, however many findings name it.
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.len());
}

#[tokio::test]
async fn removing_a_high_risk_grant() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    // The golden-saml attacker granted Mail Archiver Pro mail permissions.
    let prepared = act::prepare(
        &admin,
        &base,
        &target(Action::RemoveGrant, "Mail Archiver Pro"),
        false,
    )
    .await
    .unwrap();
    assert!(
        prepared.request_text().starts_with("DELETE "),
        "{}",
        prepared.request_text()
    );
    let held = prepared.before["highRiskGrants"].as_u64().unwrap();
    assert!(held >= 1);
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
    let left = done.after.unwrap()["highRiskGrants"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(left, held - 1);
}

#[tokio::test]
async fn resetting_a_password_shows_it_once_and_records_it_nowhere() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    let upn = "megan.bowen@contoso.com";
    let prepared = act::prepare(&admin, &base, &target(Action::ResetPassword, upn), false)
        .await
        .unwrap();
    // The preview holds a placeholder, never a password.
    assert!(prepared.request_text().contains(act::PASSWORD_PLACEHOLDER));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
    let secret = done.secret.clone().expect("the new password, to show once");
    assert_eq!(secret.0.chars().count(), 20);
    assert!(
        !format!("{done:?}").contains(secret.0.as_str()),
        "Debug shows the password"
    );
    let record = warroom::app::checklist::action_record(&done);
    assert!(
        !format!("{record:?}").contains(secret.0.as_str()),
        "the journal would hold the password"
    );
}

#[tokio::test]
async fn removing_an_application_certificate_keeps_the_others_whole() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    let apps = admin
        .page(&format!("{base}/v1.0/applications"), Family::Directory)
        .await
        .unwrap();
    let Some(key) = apps.value.iter().find_map(|a| {
        a["keyCredentials"].as_array()?.first()?["keyId"]
            .as_str()
            .map(str::to_owned)
    }) else {
        panic!("no application with a certificate in the golden-saml tenant");
    };
    let prepared = act::prepare(
        &admin,
        &base,
        &target(Action::RemoveCredential, &key),
        false,
    )
    .await
    .unwrap();
    assert!(
        prepared.request_text().starts_with("PATCH "),
        "{}",
        prepared.request_text()
    );
    assert!(
        !prepared.request_text().contains(&key),
        "the removed key is still in the PATCH"
    );
    let done = act::execute(&admin, &base, prepared).await;
    assert!(done.verified, "{}", done.summary);
}

#[tokio::test]
async fn a_credential_is_removed_from_the_application_and_its_service_principal() {
    let (running, admin, _) = tenant().await;
    let base = running.url.clone();
    let sps = admin
        .page(&format!("{base}/v1.0/servicePrincipals"), Family::Directory)
        .await
        .unwrap();
    let key = sps
        .value
        .iter()
        .find_map(|sp| {
            sp["passwordCredentials"].as_array()?.first()?["keyId"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("a service principal with a secret");
    for action in [Action::RemoveSpCredential, Action::RemoveCredential] {
        match act::prepare(&admin, &base, &target(action, &key), false).await {
            Ok(prepared) => {
                let kind = prepared.kind;
                let done = act::execute(&admin, &base, prepared).await;
                assert!(done.verified, "{kind}: {}", done.summary);
            }
            // The application may never have held it.
            Err(why) => assert!(
                action == Action::RemoveCredential && why.contains("no application"),
                "{why}"
            ),
        }
    }
    // Read again: neither holds it.
    for collection in ["applications", "servicePrincipals"] {
        let all = admin
            .page(&format!("{base}/v1.0/{collection}"), Family::Directory)
            .await
            .unwrap();
        let held = all.value.iter().any(|o| {
            o["passwordCredentials"]
                .as_array()
                .is_some_and(|l| l.iter().any(|c| c["keyId"].as_str() == Some(key.as_str())))
        });
        assert!(!held, "{collection} still holds {key}");
    }
}

/// Every directory audit the tenant holds, as events.
async fn audits(reader: &GraphClient, base: &str) -> Vec<warroom::detect::Event<'static>> {
    let mut out = Vec::new();
    let mut next = Some(format!("{base}/v1.0/auditLogs/directoryAudits?$top=500"));
    while let Some(url) = next {
        let page = reader.page(&url, Family::Reports).await.unwrap();
        for value in page.value {
            let n = out.len();
            out.extend(warroom::detect::Event::new(value, || format!("#{n}")));
        }
        next = page.next_link;
    }
    out
}

/// The team revokes Megan Bowen's sessions: the audit that follows is the
/// team's, set aside once the journal says so; the attacker's earlier
/// change of the same kind stays its own finding, as before.
#[tokio::test]
async fn the_teams_own_revocation_is_not_attacker_evidence() {
    let (running, admin, reader) = tenant().await;
    let base = running.url.clone();
    let upn = "megan.bowen@contoso.com";
    let prepared = act::prepare(&admin, &base, &target(Action::RevokeSessions, upn), false)
        .await
        .unwrap();
    let done = act::execute(&admin, &base, prepared.clone()).await;
    assert!(done.verified, "{}", done.summary);
    let write = warroom::detect::own::OwnWrite {
        action: "revoke-sessions".into(),
        object_id: prepared.object_id.clone(),
        object_name: prepared.object_name.clone(),
        at: jiff::Timestamp::now(),
    };
    let events = audits(&reader, &base).await;
    let finding = |team: warroom::detect::own::Team| {
        let mut engine = warroom::detect::Engine::built_in().unwrap();
        engine.set_team(team);
        for event in &events {
            engine.observe(event);
        }
        let found = engine
            .findings()
            .into_iter()
            .find(|f| f.detection == "audit.refresh-tokens-valid-from-changed")
            .expect("the attacker's rollback is found");
        (found, engine.own_seen)
    };
    let (unaware, _) = finding(Default::default());
    let (aware, set_aside) = finding(warroom::detect::own::Team {
        writes: vec![write],
        ..Default::default()
    });
    assert_eq!(set_aside, 1);
    assert_eq!(aware.count + 1, unaware.count, "{unaware:?}");
    let initiators = |f: &warroom::detect::Finding| {
        f.entities
            .iter()
            .filter(|e| e.field == "initiatedBy.user.userPrincipalName")
            .map(|e| e.value.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        initiators(&unaware)
            .iter()
            .any(|u| u.starts_with("bg-admin01"))
    );
    assert!(
        !initiators(&aware)
            .iter()
            .any(|u| u.starts_with("bg-admin01")),
        "{:?}",
        initiators(&aware)
    );
}
