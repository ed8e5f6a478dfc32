//! Checklist actions on the tenant, as Graph does them: read the object
//! (the before-state, and the exact request that would change it), then,
//! once a person has confirmed, send the request once, read the object
//! again and check that the change is there. Nothing here retries a write.

use reqwest::Method;
use serde_json::{Value, json};

use super::template::Action;
use crate::source::graph::GraphClient;
use crate::source::graph::budget::Family;
use crate::source::graph::client::WriteOutcome;

/// What a checklist item acts on: its key, the action, and the object the
/// finding named (a user principal name, a credential's key id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub item: String,
    pub action: Action,
    pub value: String,
}

/// A write ready to be confirmed: the object, the request, the state
/// before.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub item: String,
    pub action: Action,
    /// `user`, `application`, `service principal`.
    pub kind: &'static str,
    pub object_id: String,
    pub object_name: String,
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
    pub before: Value,
    /// Nothing is sent: the profile does not allow writes.
    pub dry_run: bool,
    /// The permission Graph wants for it, to name when it is refused.
    pub needs: &'static str,
}

impl Prepared {
    /// What the person types to confirm: the object's name, or its id
    /// when the name is empty or could not be typed as shown (control
    /// characters shown as escapes, or characters outside ASCII, which an
    /// ASCII terminal cannot show).
    pub fn confirm_word(&self) -> &str {
        let name = self.object_name.trim();
        let typeable = name.chars().all(|c| c.is_ascii_graphic() || c == ' ');
        if name.is_empty() || !typeable {
            &self.object_id
        } else {
            name
        }
    }

    /// `POST https://…/revokeSignInSessions` and the body, as sent.
    pub fn request_text(&self) -> String {
        match &self.body {
            Some(body) => format!(
                "{} {}\n{}",
                self.method,
                self.url,
                serde_json::to_string_pretty(body).unwrap_or_default()
            ),
            None => format!("{} {}", self.method, self.url),
        }
    }
}

/// A password made for a reset: shown to the person once, never written
/// anywhere, wiped from memory when dropped; `Debug` does not show it.
#[derive(Clone, PartialEq)]
pub struct Secret(pub zeroize::Zeroizing<String>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(not shown)")
    }
}

/// What stands in the request preview and the journal for the password.
pub const PASSWORD_PLACEHOLDER: &str = "(made when sent; shown to you once; never recorded)";

/// 20 characters from an alphabet without look-alikes, from the system's
/// random source, with each character class present.
fn new_password() -> Result<Secret, String> {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-=?@";
    let mut random = zeroize::Zeroizing::new([0u8; 20]);
    crate::case::journal::getrandom(random.as_mut()).map_err(|e| e.to_string())?;
    let mut password = zeroize::Zeroizing::new(String::with_capacity(20));
    for (i, byte) in random.iter().enumerate() {
        let set = match i {
            0 => UPPER,
            1 => LOWER,
            2 => DIGITS,
            3 => SYMBOLS,
            _ => [LOWER, UPPER, DIGITS, SYMBOLS][usize::from(*byte) % 4],
        };
        password.push(char::from(set[usize::from(*byte / 4) % set.len()]));
    }
    Ok(Secret(password))
}

/// What a confirmed write did.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed {
    pub prepared: Prepared,
    pub outcome: WriteOutcome,
    /// The object read again afterwards, when it could be.
    pub after: Option<Value>,
    /// The after-state shows the change.
    pub verified: bool,
    /// One sentence for the person and the journal.
    pub summary: String,
    /// A new password, to show once (password resets only).
    pub secret: Option<Secret>,
}

/// The fields of a user the actions read: Graph returns some of them only
/// when asked for by name.
const USER_FIELDS: &str = "id,displayName,userPrincipalName,accountEnabled,signInSessionsValidFromDateTime,lastPasswordChangeDateTime";

fn user_url(base: &str, user: &str) -> Result<reqwest::Url, String> {
    let mut u = url(base, &["v1.0", "users", user])?;
    u.query_pairs_mut().append_pair("$select", USER_FIELDS);
    Ok(u)
}

/// The role assignments of one principal (the id encoded as a value).
fn assignments_of(base: &str, principal: &str) -> Result<String, String> {
    let mut u = url(
        base,
        &["v1.0", "roleManagement", "directory", "roleAssignments"],
    )?;
    let quoted = format!("principalId eq '{}'", principal.replace('\'', "''"));
    u.query_pairs_mut().append_pair("$filter", &quoted);
    Ok(u.to_string())
}

fn url(base: &str, segments: &[&str]) -> Result<reqwest::Url, String> {
    let mut url =
        reqwest::Url::parse(base).map_err(|e| format!("bad Graph address {base}: {e}"))?;
    url.path_segments_mut()
        .map_err(|()| format!("bad Graph address {base}"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

async fn read(client: &GraphClient, url: &reqwest::Url) -> Result<Value, String> {
    client
        .get(url.as_str(), Family::Directory)
        .await
        .map_err(|e| e.to_string())
}

/// The permissions that let a sign-in do an action (any one of them).
fn permissions(action: Action) -> &'static [&'static str] {
    match action {
        Action::RevokeSessions => &[
            "User.RevokeSessions.All",
            "User.ReadWrite.All",
            "Directory.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ],
        Action::DisableAccount => &[
            "User.EnableDisableAccount.All",
            "User.ReadWrite.All",
            "Directory.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ],
        Action::ResetPassword => &[
            "User-PasswordProfile.ReadWrite.All",
            "User.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ],
        Action::RemoveCredential | Action::RemoveSpCredential => {
            &["Application.ReadWrite.All", "Directory.AccessAsUser.All"]
        }
        Action::RemoveGrant => &[
            "DelegatedPermissionGrant.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ],
        Action::RemoveRoleAssignment => &[
            "RoleManagement.ReadWrite.Directory",
            "Directory.AccessAsUser.All",
        ],
        Action::ConvertDomain => &[
            "Domain-InternalFederation.ReadWrite.All",
            "Domain.ReadWrite.All",
            "Directory.AccessAsUser.All",
        ],
    }
}

/// When the writing sign-in lists what it was granted and none of the
/// permissions the action needs is among them, says which is missing.
/// `None` when it is there, or when the grant does not say (`.default`):
/// then Graph's answer will tell.
pub fn missing_permission(action: Action, granted: Option<&str>) -> Option<String> {
    let granted = granted?;
    let names: Vec<&str> = granted
        .split_whitespace()
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .collect();
    if names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(".default")) {
        return None;
    }
    let wanted = permissions(action);
    if wanted
        .iter()
        .any(|w| names.iter().any(|n| n.eq_ignore_ascii_case(w)))
    {
        return None;
    }
    Some(format!(
        "the sign-in that writes was not granted {} (it holds {}); sign in as an administrator with it, nothing was sent",
        wanted.join(" or "),
        names.join(", ")
    ))
}

/// Reads the object and builds the request; sends nothing.
pub async fn prepare(
    client: &GraphClient,
    base: &str,
    target: &Target,
    dry_run: bool,
) -> Result<Prepared, String> {
    match target.action {
        Action::RevokeSessions | Action::DisableAccount | Action::ResetPassword => {
            let user = read(client, &user_url(base, &target.value)?).await?;
            let id = user["id"].as_str().ok_or("the user has no id")?.to_owned();
            let (method, segments, body, needs) = if target.action == Action::RevokeSessions {
                (
                    Method::POST,
                    vec!["v1.0", "users", id.as_str(), "revokeSignInSessions"],
                    None,
                    "User.RevokeSessions.All (delegated, by an administrator)",
                )
            } else if target.action == Action::ResetPassword {
                (
                    Method::PATCH,
                    vec!["v1.0", "users", id.as_str()],
                    Some(json!({ "passwordProfile": {
                        "forceChangePasswordNextSignIn": true,
                        "password": PASSWORD_PLACEHOLDER,
                    }})),
                    "User-PasswordProfile.ReadWrite.All (delegated, by an administrator)",
                )
            } else {
                (
                    Method::PATCH,
                    vec!["v1.0", "users", id.as_str()],
                    Some(json!({ "accountEnabled": false })),
                    "User.EnableDisableAccount.All (delegated, by an administrator)",
                )
            };
            Ok(Prepared {
                item: target.item.clone(),
                action: target.action,
                kind: "user",
                object_name: user["userPrincipalName"].as_str().unwrap_or("").to_owned(),
                url: url(base, &segments)?.to_string(),
                object_id: id,
                method,
                body,
                before: json!({
                    "id": user["id"],
                    "displayName": user["displayName"],
                    "userPrincipalName": user["userPrincipalName"],
                    "accountEnabled": user["accountEnabled"],
                    "signInSessionsValidFromDateTime": user["signInSessionsValidFromDateTime"],
                    "lastPasswordChangeDateTime": user["lastPasswordChangeDateTime"],
                }),
                dry_run,
                needs,
            })
        }
        Action::RemoveCredential => {
            let on = ("applications", "application");
            prepare_credential(client, base, target, on, dry_run).await
        }
        Action::RemoveSpCredential => {
            let on = ("servicePrincipals", "service principal");
            prepare_credential(client, base, target, on, dry_run).await
        }
        Action::RemoveGrant => prepare_grant(client, base, target, dry_run).await,
        Action::ConvertDomain => {
            let domain = target.value.as_str();
            let listing = read(
                client,
                &url(
                    base,
                    &["v1.0", "domains", domain, "federationConfiguration"],
                )?,
            )
            .await
            .map_err(|e| format!("{domain} has no federation to remove ({e})"))?;
            let federation = listing["value"]
                .as_array()
                .and_then(|l| l.first())
                .cloned()
                .ok_or_else(|| format!("{domain} is not federated"))?;
            let id = federation["id"]
                .as_str()
                .ok_or("the federation has no id")?
                .to_owned();
            Ok(Prepared {
                item: target.item.clone(),
                action: target.action,
                kind: "domain",
                url: url(
                    base,
                    &["v1.0", "domains", domain, "federationConfiguration", &id],
                )?
                .to_string(),
                object_id: domain.to_owned(),
                object_name: domain.to_owned(),
                method: Method::DELETE,
                body: None,
                before: json!({ "domain": domain, "federationConfiguration": federation }),
                dry_run,
                needs: "Domain-InternalFederation.ReadWrite.All (delegated, by an administrator)",
            })
        }
        Action::RemoveRoleAssignment => {
            let user = read(client, &user_url(base, &target.value)?).await?;
            let id = user["id"].as_str().ok_or("the user has no id")?.to_owned();
            let listing = assignments_of(base, &id)?;
            let page = client
                .page(&listing, Family::Directory)
                .await
                .map_err(|e| e.to_string())?;
            let privileged: Vec<&Value> = page
                .value
                .iter()
                .filter(|a| a["principalId"].as_str() == Some(id.as_str()))
                .filter(|a| {
                    a["roleDefinitionId"]
                        .as_str()
                        .is_some_and(crate::model::roles::is_privileged_template)
                })
                .collect();
            let assignment = (*privileged
                .first()
                .ok_or_else(|| format!("{} holds no privileged role now", target.value))?)
            .clone();
            let assignment_id = assignment["id"]
                .as_str()
                .ok_or("the assignment has no id")?;
            Ok(Prepared {
                item: target.item.clone(),
                action: target.action,
                kind: "role assignment",
                url: url(
                    base,
                    &[
                        "v1.0",
                        "roleManagement",
                        "directory",
                        "roleAssignments",
                        assignment_id,
                    ],
                )?
                .to_string(),
                object_id: assignment_id.to_owned(),
                object_name: user["userPrincipalName"].as_str().unwrap_or("").to_owned(),
                method: Method::DELETE,
                body: None,
                before: json!({
                    "user": user["userPrincipalName"],
                    "assignment": assignment,
                    "privilegedAssignments": privileged.len(),
                }),
                dry_run,
                needs: "RoleManagement.ReadWrite.Directory (delegated, by a Privileged Role Administrator)",
            })
        }
    }
}

/// Every item of a collection, following its pages.
async fn all(client: &GraphClient, first: String) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut next = Some(first);
    while let Some(page_url) = next {
        let page = client
            .page(&page_url, Family::Directory)
            .await
            .map_err(|e| e.to_string())?;
        items.extend(page.value);
        next = page.next_link;
    }
    Ok(items)
}

/// The high-risk grants a service principal holds: app-role assignments of
/// high-risk application permissions, and delegated grants with a
/// high-risk scope (by the permission catalogue).
async fn risky_grants(client: &GraphClient, base: &str, sp: &str) -> Result<Vec<Value>, String> {
    let catalogue = crate::detect::catalogue::Catalogue::shared();
    let risky = |name: &str| {
        catalogue
            .permission(name)
            .is_some_and(|p| p.risk <= crate::model::Severity::High)
    };
    let roles = all(
        client,
        url(
            base,
            &["v1.0", "servicePrincipals", sp, "appRoleAssignments"],
        )?
        .to_string(),
    )
    .await?;
    let delegated = all(
        client,
        url(
            base,
            &["v1.0", "servicePrincipals", sp, "oauth2PermissionGrants"],
        )?
        .to_string(),
    )
    .await?;
    Ok(roles
        .into_iter()
        .filter(|a| a["appRoleId"].as_str().is_some_and(risky))
        .chain(delegated.into_iter().filter(|g| {
            g["scope"]
                .as_str()
                .is_some_and(|s| s.split_whitespace().any(risky))
        }))
        .collect())
}

/// The first high-risk grant of the service principal named by the item.
async fn prepare_grant(
    client: &GraphClient,
    base: &str,
    target: &Target,
    dry_run: bool,
) -> Result<Prepared, String> {
    let listing =
        url(base, &["v1.0", "servicePrincipals"])?.to_string() + "?$select=id,appId,displayName";
    let named: Vec<Value> = all(client, listing)
        .await?
        .into_iter()
        .filter(|s| {
            s["displayName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&target.value))
        })
        .collect();
    // Attackers name their apps after real ones: a name that is not unique
    // does not say which app to change.
    let sp = match named.as_slice() {
        [] => return Err(format!("no service principal is named {}", target.value)),
        [one] => one.clone(),
        many => {
            return Err(format!(
                "{} service principals are named {}: remove the grant by id in the portal, then record it with s",
                many.len(),
                target.value
            ));
        }
    };
    let sp_id = sp["id"]
        .as_str()
        .ok_or("the service principal has no id")?
        .to_owned();
    let grants = risky_grants(client, base, &sp_id).await?;
    let grant = grants
        .first()
        .ok_or_else(|| format!("{} holds no high-risk grant now", target.value))?
        .clone();
    let grant_id = grant["id"].as_str().ok_or("the grant has no id")?;
    // An app-role assignment is removed from its resource; a delegated
    // grant is an object of its own.
    let request = match grant["resourceId"].as_str() {
        Some(resource) if grant["appRoleId"].is_string() => url(
            base,
            &[
                "v1.0",
                "servicePrincipals",
                resource,
                "appRoleAssignedTo",
                grant_id,
            ],
        )?,
        _ => url(base, &["v1.0", "oauth2PermissionGrants", grant_id])?,
    };
    Ok(Prepared {
        item: target.item.clone(),
        action: target.action,
        kind: "grant",
        url: request.to_string(),
        object_id: sp_id,
        object_name: sp["displayName"].as_str().unwrap_or("").to_owned(),
        method: Method::DELETE,
        body: None,
        before: json!({
            "servicePrincipal": sp,
            "grant": grant,
            "highRiskGrants": grants.len(),
        }),
        dry_run,
        needs: "DelegatedPermissionGrant.ReadWrite.All or AppRoleAssignment.ReadWrite.All (delegated, by an administrator)",
    })
}

/// An application's certificates, read whole.
async fn certificates(client: &GraphClient, base: &str, app: &str) -> Result<Vec<Value>, String> {
    let mut u = url(base, &["v1.0", "applications", app])?;
    u.query_pairs_mut().append_pair("$select", "keyCredentials");
    let object = read(client, &u).await?;
    Ok(object["keyCredentials"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The key ids in a list of credentials, lower-cased and sorted.
fn key_ids(list: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = list
        .iter()
        .filter_map(|c| c["keyId"].as_str().map(str::to_lowercase))
        .collect();
    ids.sort();
    ids
}

/// Finds the application (or the service principal, by `on`: the
/// collection and its name) holding the key id.
async fn prepare_credential(
    client: &GraphClient,
    base: &str,
    target: &Target,
    on: (&str, &'static str),
    dry_run: bool,
) -> Result<Prepared, String> {
    let key = target.value.to_lowercase();
    {
        let (collection, kind) = on;
        let mut next = Some(
            url(base, &["v1.0", collection])?.to_string()
                + "?$select=id,appId,displayName,passwordCredentials,keyCredentials",
        );
        while let Some(page_url) = next {
            let page = client
                .page(&page_url, Family::Directory)
                .await
                .map_err(|e| e.to_string())?;
            for object in &page.value {
                let holds = |field: &str| {
                    object[field].as_array().and_then(|list| {
                        list.iter()
                            .find(|c| {
                                c["keyId"]
                                    .as_str()
                                    .is_some_and(|k| k.eq_ignore_ascii_case(&key))
                            })
                            .cloned()
                    })
                };
                let id = object["id"].as_str().unwrap_or("").to_owned();
                let name = object["displayName"].as_str().unwrap_or("").to_owned();
                let before = |credential: &Value| {
                    json!({
                        "id": object["id"],
                        "appId": object["appId"],
                        "displayName": object["displayName"],
                        "credential": credential,
                    })
                };
                if let Some(credential) = holds("passwordCredentials") {
                    return Ok(Prepared {
                        item: target.item.clone(),
                        action: target.action,
                        kind,
                        url: url(base, &["v1.0", collection, &id, "removePassword"])?.to_string(),
                        object_id: id,
                        object_name: name,
                        method: Method::POST,
                        body: Some(json!({ "keyId": target.value })),
                        before: before(&credential),
                        dry_run,
                        needs: "Application.ReadWrite.All (delegated, by an administrator)",
                    });
                }
                if let Some(credential) = holds("keyCredentials") {
                    if collection != "applications" {
                        return Err(format!(
                            "certificate {} is on the service principal {name}: remove it with PowerShell (Remove-MgServicePrincipalKey needs a proof of possession), then record it with s",
                            target.value
                        ));
                    }
                    // Graph returns a certificate's key only for one object
                    // read with `$select`; the PATCH must carry the others whole.
                    let keep = certificates(client, base, &id)
                        .await?
                        .into_iter()
                        .filter(|c| {
                            c["keyId"]
                                .as_str()
                                .is_none_or(|k| !k.eq_ignore_ascii_case(&key))
                        })
                        .collect::<Vec<Value>>();
                    return Ok(Prepared {
                        item: target.item.clone(),
                        action: target.action,
                        kind,
                        url: url(base, &["v1.0", collection, &id])?.to_string(),
                        object_id: id,
                        object_name: name,
                        method: Method::PATCH,
                        body: Some(json!({ "keyCredentials": keep })),
                        before: before(&credential),
                        dry_run,
                        needs: "Application.ReadWrite.All (delegated, by an administrator)",
                    });
                }
            }
            next = page.next_link;
        }
    }
    Err(format!(
        "no {} holds the key {} now: it is gone already, or was never there (set the item n/a with s)",
        on.1, target.value
    ))
}

/// Sends the confirmed write once, reads the object again and checks it.
pub async fn execute(client: &GraphClient, base: &str, prepared: Prepared) -> Executed {
    // A reset's password is made now, sent, and kept only to be shown.
    let secret = if prepared.action == Action::ResetPassword {
        match new_password() {
            Ok(secret) => Some(secret),
            Err(e) => {
                return Executed {
                    summary: format!("nothing sent: no password could be made ({e})"),
                    outcome: WriteOutcome::Refused {
                        status: 0,
                        code: "random".into(),
                        message: e,
                    },
                    prepared,
                    after: None,
                    verified: false,
                    secret: None,
                };
            }
        }
    } else {
        None
    };
    let body = match (&secret, &prepared.body) {
        (Some(secret), Some(body)) => {
            let mut body = body.clone();
            body["passwordProfile"]["password"] = Value::from(secret.0.as_str());
            Some(body)
        }
        (_, body) => body.clone(),
    };
    // Replacing the certificate list drops whatever was added since the
    // preview: stop if it changed.
    if matches!(
        prepared.action,
        Action::RemoveCredential | Action::RemoveSpCredential
    ) && prepared.method == Method::PATCH
    {
        let kept = body
            .as_ref()
            .and_then(|b| b["keyCredentials"].as_array().cloned())
            .unwrap_or_default();
        let removed = prepared.before["credential"].clone();
        let expected = key_ids(&[kept, vec![removed]].concat());
        let now = certificates(client, base, &prepared.object_id)
            .await
            .map(|c| key_ids(&c));
        if now.as_ref() != Ok(&expected) {
            let message = "the application's certificates changed since the preview; nothing was sent: press x again".to_owned();
            return Executed {
                summary: message.clone(),
                outcome: WriteOutcome::Refused {
                    status: 0,
                    code: "changed".into(),
                    message,
                },
                prepared,
                after: None,
                verified: false,
                secret,
            };
        }
    }
    let outcome = client
        .write_once(prepared.method.clone(), &prepared.url, body.as_ref())
        .await;
    // Read again whatever the answer: after an unknown outcome this is how
    // we learn whether it happened.
    let id = prepared.object_id.as_str();
    let segments: Vec<&str> = match prepared.kind {
        "user" => vec!["v1.0", "users", id],
        "application" => vec!["v1.0", "applications", id],
        "domain" => vec!["v1.0", "domains", id],
        _ => vec!["v1.0", "servicePrincipals", id],
    };
    let after = if prepared.kind == "role assignment" {
        role_assignments_after(client, base, &prepared).await
    } else if prepared.kind == "grant" {
        risky_grants(client, base, &prepared.object_id)
            .await
            .ok()
            .map(|left| {
                let gone = prepared.before["grant"]["id"].as_str();
                let removed = !left.iter().any(|g| g["id"].as_str() == gone);
                json!({ "left": left.len(), "highRiskGrants": left, "removed": removed })
            })
    } else if prepared.kind == "user" {
        match user_url(base, id) {
            Ok(u) => read(client, &u).await.ok(),
            Err(_) => None,
        }
    } else {
        match url(base, &segments) {
            Ok(u) => read(client, &u).await.ok(),
            Err(_) => None,
        }
    };
    let verified = after
        .as_ref()
        .is_some_and(|after| shows_change(&prepared, after));
    let summary = summary(&prepared, &outcome, after.as_ref(), verified);
    // A password Graph may have taken is shown: dropping it could leave an
    // account with a password nobody knows. One it refused is no use.
    let secret = secret.filter(|_| !matches!(outcome, WriteOutcome::Refused { .. }));
    Executed {
        prepared,
        outcome,
        after,
        verified,
        summary,
        secret,
    }
}

/// The user's role assignments read again, and whether the one removed
/// is among them.
async fn role_assignments_after(
    client: &GraphClient,
    base: &str,
    prepared: &Prepared,
) -> Option<Value> {
    let principal = prepared.before["assignment"]["principalId"].as_str()?;
    let listing = assignments_of(base, principal).ok()?;
    let held: Vec<Value> = all(client, listing)
        .await
        .ok()?
        .into_iter()
        .filter(|a| a["principalId"].as_str() == Some(principal))
        .collect();
    let removed = !held
        .iter()
        .any(|a| a["id"].as_str() == Some(prepared.object_id.as_str()));
    let left = held
        .iter()
        .filter(|a| {
            a["roleDefinitionId"]
                .as_str()
                .is_some_and(crate::model::roles::is_privileged_template)
        })
        .count();
    Some(json!({ "assignments": held, "removed": removed, "left": left }))
}

/// Whether the object read afterwards shows the change.
fn shows_change(prepared: &Prepared, after: &Value) -> bool {
    match prepared.action {
        Action::RevokeSessions => {
            let time = |v: &Value| {
                v["signInSessionsValidFromDateTime"]
                    .as_str()
                    .and_then(crate::model::de::parse_time)
            };
            match (time(&prepared.before), time(after)) {
                (Some(before), Some(now)) => now > before,
                (None, Some(_)) => true,
                _ => false,
            }
        }
        Action::DisableAccount => after["accountEnabled"] == Value::Bool(false),
        Action::ResetPassword => {
            let time = |v: &Value| {
                v["lastPasswordChangeDateTime"]
                    .as_str()
                    .and_then(crate::model::de::parse_time)
            };
            matches!((time(&prepared.before), time(after)), (Some(b), Some(a)) if a > b)
        }
        Action::ConvertDomain => after["authenticationType"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("managed")),
        // The item is done when none is left, not when one is gone.
        Action::RemoveRoleAssignment | Action::RemoveGrant => {
            after["removed"] == Value::Bool(true) && after["left"] == json!(0)
        }
        Action::RemoveCredential | Action::RemoveSpCredential => {
            let key = prepared.before["credential"]["keyId"]
                .as_str()
                .unwrap_or("");
            let still = |field: &str| {
                after[field].as_array().is_some_and(|list| {
                    list.iter().any(|c| {
                        c["keyId"]
                            .as_str()
                            .is_some_and(|k| k.eq_ignore_ascii_case(key))
                    })
                })
            };
            !key.is_empty() && !still("passwordCredentials") && !still("keyCredentials")
        }
    }
}

fn summary(
    prepared: &Prepared,
    outcome: &WriteOutcome,
    after: Option<&Value>,
    verified: bool,
) -> String {
    let what = format!("{} {}", prepared.kind, prepared.confirm_word());
    let reread = after.is_some();
    let left = after.and_then(|a| a["left"].as_u64()).unwrap_or(0);
    match outcome {
        WriteOutcome::Done { status, .. } if verified => {
            format!("done ({status}); {what} read again shows the change")
        }
        WriteOutcome::Done { status, .. }
            if after.is_some_and(|a| a["removed"] == Value::Bool(true)) && left > 0 =>
        {
            format!(
                "removed ({status}); {what} still holds {left} more: press x again for the next"
            )
        }
        WriteOutcome::Done { status, .. } => format!(
            "Graph answered {status}, but {what} {} the change yet: check it before marking the item done",
            if reread {
                "does not show"
            } else {
                "could not be read again to confirm"
            }
        ),
        WriteOutcome::Refused {
            status: 403,
            message,
            ..
        } => format!(
            "refused (403): {message}; it needs {} — nothing changed",
            prepared.needs
        ),
        WriteOutcome::Refused {
            status,
            code,
            message,
        } => {
            format!("refused ({status} {code}): {message} — nothing changed")
        }
        WriteOutcome::Unknown { reason } if verified => format!(
            "no clear answer ({reason}), but {what} read again shows the change: it happened; not sent again"
        ),
        WriteOutcome::Unknown { reason } => format!(
            "no clear answer ({reason}) and {what} does not show the change; it was not sent again: check the tenant, then run it again if needed"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_write_permission_is_named_before_anything_is_sent() {
        let read_only = "https://graph.microsoft.com/User.Read https://graph.microsoft.com/AuditLog.Read.All offline_access";
        let missing = missing_permission(Action::RevokeSessions, Some(read_only)).unwrap();
        assert!(missing.contains("User.RevokeSessions.All"), "{missing}");
        assert!(missing.contains("AuditLog.Read.All"), "{missing}");
        let admin = "https://graph.microsoft.com/Directory.AccessAsUser.All openid";
        assert_eq!(
            missing_permission(Action::RemoveCredential, Some(admin)),
            None
        );
        // `.default` does not list the permissions: Graph's answer decides.
        let default = "https://graph.microsoft.com/.default offline_access";
        assert_eq!(
            missing_permission(Action::ConvertDomain, Some(default)),
            None
        );
        assert_eq!(missing_permission(Action::ConvertDomain, None), None);
    }
}
