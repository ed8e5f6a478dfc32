//! The detections added for breadth, each on the real shape of its record:
//! a must-fire case and a must-not-fire case, each in two of the formats
//! responders are handed (Graph JSON and Log Analytics rows for sign-ins
//! and directory audits; Graph's `auditLogRecord` and the Management
//! API's record for the Unified Audit Log; the event data as EVTX gives
//! it and `SecurityEvent` rows for Windows). Records follow the documented
//! schemas; values are the ones the rules' anchors name.

use serde_json::{Map, Value, json};
use warroom::detect::{Engine, Event};

#[derive(Clone, Copy)]
enum Kind {
    SignIn,
    Audit,
    Mail,
    Windows,
}

/// One rule's cases: fields over a base record of its kind, how many
/// records (each a minute apart; `vary` gets a different value in each),
/// and the fields of a record just short of firing.
struct Case {
    rule: &'static str,
    kind: Kind,
    hit: Value,
    copies: usize,
    vary: Option<&'static str>,
    miss: Value,
    miss_copies: usize,
}

fn case(rule: &'static str, kind: Kind, hit: Value, miss: Value) -> Case {
    Case {
        rule,
        kind,
        hit,
        copies: 1,
        vary: None,
        miss,
        miss_copies: 1,
    }
}

fn many(mut c: Case, copies: usize, miss_copies: usize, vary: Option<&'static str>) -> Case {
    c.copies = copies;
    c.miss_copies = miss_copies;
    c.vary = vary;
    c
}

/// Sets `path` (dotted; numbers index arrays) in `record`.
fn set(record: &mut Value, path: &str, value: Value) {
    let mut at = record;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(n) = part.parse::<usize>() {
            let arr = at.as_array_mut().expect("an array");
            while arr.len() <= n {
                arr.push(json!({}));
            }
            if last {
                arr[n] = value;
                return;
            }
            at = &mut arr[n];
        } else {
            let map = at.as_object_mut().expect("an object");
            if last {
                map.insert((*part).to_owned(), value);
                return;
            }
            let next_is_index = parts[i + 1].parse::<usize>().is_ok();
            at = map.entry(*part).or_insert_with(
                || {
                    if next_is_index { json!([]) } else { json!({}) }
                },
            );
        }
    }
}

fn time(i: usize) -> String {
    format!("2026-11-20T10:{:02}:{:02}Z", 10 + i / 60, i % 60)
}

/// The record in Graph's shape (or the EVTX reader's, for Windows).
fn graph(kind: Kind, i: usize, fields: &Value) -> Value {
    let mut r = match kind {
        Kind::SignIn => json!({
            "id": format!("s-{i}"), "createdDateTime": time(i),
            "userPrincipalName": "adele.vance@contoso.com", "userDisplayName": "Adele Vance",
            "ipAddress": "203.0.113.7", "appDisplayName": "Office 365 Exchange Online",
            "appId": "00000002-0000-0ff1-ce00-000000000000", "isInteractive": true,
            "clientAppUsed": "Browser", "authenticationProtocol": "none",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": null},
            "location": {"city": "Lisbon", "countryOrRegion": "PT"}
        }),
        Kind::Audit => json!({
            "id": format!("a-{i}"), "activityDateTime": time(i), "category": "UserManagement",
            "correlationId": format!("00000000-0000-4000-8000-{i:012}"), "result": "success",
            "resultReason": "", "loggedByService": "Core Directory", "operationType": "Update",
            "activityDisplayName": "Update user",
            "initiatedBy": {"user": {"id": "u-1", "userPrincipalName": "megan.bowen@contoso.com", "ipAddress": "198.51.100.4"}},
            "targetResources": [{"id": format!("t-{i}"), "displayName": "Target", "type": "User",
                "userPrincipalName": "lynne.robbins@contoso.com", "modifiedProperties": []}]
        }),
        Kind::Mail => json!({
            "id": format!("m-{i}"), "createdDateTime": time(i), "auditLogRecordType": "ExchangeAdmin",
            "operation": "Get-Mailbox", "userPrincipalName": "megan.bowen@contoso.com",
            "auditData": {"Id": format!("m-{i}"), "CreationTime": time(i).trim_end_matches('Z'),
                "RecordType": 1, "Workload": "Exchange", "UserId": "megan.bowen@contoso.com",
                "Operation": "Get-Mailbox", "ObjectId": "adele.vance", "ResultStatus": "True",
                "ClientIP": "198.51.100.4", "Parameters": []}
        }),
        Kind::Windows => json!({
            "Provider": "Microsoft-Windows-Security-Auditing", "EventID": 4624,
            "TimeCreated": time(i), "EventRecordID": format!("{}", 1000 + i),
            "Channel": "Security", "Computer": "DC01.contoso.local",
            "SubjectUserName": "svc-backup", "SubjectDomainName": "CONTOSO",
            "TargetUserName": "adele.vance", "TargetDomainName": "CONTOSO", "IpAddress": "10.0.4.20"
        }),
    };
    for (path, value) in fields.as_object().unwrap() {
        // The Management API record is the `auditData`: say it once.
        if let (Kind::Mail, Some(inner)) = (kind, path.strip_prefix("auditData.")) {
            set(&mut r["auditData"], inner, value.clone());
        } else {
            set(&mut r, path, value.clone());
        }
        if let (Kind::Mail, "operation") = (kind, path.as_str()) {
            set(&mut r["auditData"], "Operation", value.clone());
        }
    }
    r
}

fn capital(key: &str) -> String {
    let mut c = key.chars();
    c.next()
        .map(|h| h.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The same record in the second format responders are handed.
fn second(kind: Kind, record: &Value) -> Value {
    let map = record.as_object().unwrap();
    match kind {
        // A Log Analytics row: capitalised columns, `IPAddress`, the error
        // code again as `ResultType`, and the table's name.
        Kind::SignIn | Kind::Audit => {
            let mut out = Map::new();
            for (k, v) in map {
                let name = if k == "ipAddress" {
                    "IPAddress".to_owned()
                } else {
                    capital(k)
                };
                out.insert(name, v.clone());
            }
            match kind {
                Kind::SignIn => {
                    out.insert(
                        "ResultType".into(),
                        json!(record["status"]["errorCode"].to_string()),
                    );
                    out.insert("TimeGenerated".into(), record["createdDateTime"].clone());
                    out.insert("Type".into(), json!("SigninLogs"));
                }
                _ => {
                    out.insert(
                        "OperationName".into(),
                        record["activityDisplayName"].clone(),
                    );
                    out.insert("TimeGenerated".into(), record["activityDateTime"].clone());
                    out.insert("Type".into(), json!("AuditLogs"));
                }
            }
            Value::Object(out)
        }
        // The Management API's record is the audit data itself.
        Kind::Mail => {
            let mut inner = record["auditData"].clone();
            inner["CreationTime"] = json!(
                record["createdDateTime"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches('Z')
            );
            inner
        }
        // A `SecurityEvent` row from Log Analytics.
        Kind::Windows => {
            let mut out = map.clone();
            out.remove("Provider");
            out.remove("TimeCreated");
            out.insert("TimeGenerated".into(), record["TimeCreated"].clone());
            out.insert("EventSourceName".into(), record["Provider"].clone());
            out.insert("Type".into(), json!("SecurityEvent"));
            Value::Object(out)
        }
    }
}

/// The detections the engine raises over these records.
fn fired(records: &[Value]) -> Vec<String> {
    let mut engine = Engine::built_in().unwrap();
    for (i, r) in records.iter().enumerate() {
        let event = Event::new(r.clone(), || format!("#{i}"))
            .unwrap_or_else(|| panic!("not a record warroom reads: {r}"));
        engine.observe(&event);
    }
    engine.findings().into_iter().map(|f| f.detection).collect()
}

fn records(c: &Case, fields: &Value, copies: usize, format: usize) -> Vec<Value> {
    (0..copies)
        .map(|i| {
            let mut fields = fields.clone();
            if let Some(path) = c.vary {
                let base = fields[path].as_str().unwrap_or("x").to_owned();
                fields[path] = json!(format!("{base}{i}"));
            }
            let r = graph(c.kind, i, &fields);
            if format == 0 { r } else { second(c.kind, &r) }
        })
        .collect()
}

fn cases() -> Vec<Case> {
    use Kind::*;
    let declined = "MFA denied; user declined the authentication";
    vec![
        many(
            case(
                "signin.brute-force",
                SignIn,
                json!({"status.errorCode": 50126}),
                json!({"status.errorCode": 50126}),
            ),
            20,
            19,
            None,
        ),
        many(
            case(
                "signin.mfa-push-bombing",
                SignIn,
                json!({"status.errorCode": 500121, "status.additionalDetails": declined}),
                json!({"status.errorCode": 500121, "status.additionalDetails": declined}),
            ),
            3,
            2,
            None,
        ),
        case(
            "signin.mfa-fraud-reported",
            SignIn,
            json!({"status.errorCode": 500121, "status.additionalDetails": "MFA denied; Phone App Reported Fraud"}),
            json!({"status.errorCode": 500121, "status.additionalDetails": declined}),
        ),
        case(
            "signin.smart-lockout",
            SignIn,
            json!({"status.errorCode": 50053}),
            json!({"status.errorCode": 50126}),
        ),
        case(
            "signin.admin-tool",
            SignIn,
            json!({"appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "appDisplayName": "Microsoft Azure CLI"}),
            json!({"appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "appDisplayName": "Microsoft Azure CLI", "status.errorCode": 50126}),
        ),
        case(
            "signin.vscode-to-graph",
            SignIn,
            json!({"appId": "aebc6443-996d-45c2-90f0-388ff96faa56", "appDisplayName": "Visual Studio Code", "resourceDisplayName": "Microsoft Graph", "resourceId": "00000003-0000-0000-c000-000000000000"}),
            json!({"appId": "aebc6443-996d-45c2-90f0-388ff96faa56", "appDisplayName": "Visual Studio Code", "resourceDisplayName": "Azure DevOps", "resourceId": "499b84ac-1321-427f-aa17-267ca6975798"}),
        ),
        case(
            "signin.attack-tool-user-agent",
            SignIn,
            json!({"userAgent": "python-requests/2.31.0", "status.errorCode": 50126}),
            json!({"userAgent": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"}),
        ),
        case(
            "signin.ropc",
            SignIn,
            json!({"authenticationProtocol": "ropc"}),
            json!({"authenticationProtocol": "ropc", "status.errorCode": 50126}),
        ),
        many(
            case(
                "signin.service-principal-bad-credential",
                SignIn,
                json!({"servicePrincipalId": "sp-1", "servicePrincipalName": "HR Sync", "isInteractive": false, "status.errorCode": 7000215}),
                json!({"servicePrincipalId": "sp-1", "servicePrincipalName": "HR Sync", "isInteractive": false, "status.errorCode": 7000215}),
            ),
            5,
            4,
            None,
        ),
        many(
            case(
                "signin.legacy-auth-spray",
                SignIn,
                json!({"clientAppUsed": "IMAP4", "status.errorCode": 50126, "userPrincipalName": "user"}),
                json!({"clientAppUsed": "IMAP4", "status.errorCode": 50126, "userPrincipalName": "user"}),
            ),
            10,
            9,
            Some("userPrincipalName"),
        ),
        case(
            "signin.sync-account-interactive",
            SignIn,
            json!({"userPrincipalName": "Sync_CONNECT01_4f2a@contoso.onmicrosoft.com"}),
            json!({"userPrincipalName": "Sync_CONNECT01_4f2a@contoso.onmicrosoft.com", "isInteractive": false}),
        ),
        many(
            case(
                "signin.password-right-blocked-by-policy",
                SignIn,
                json!({"status.errorCode": 53003}),
                json!({"status.errorCode": 53003}),
            ),
            10,
            9,
            None,
        ),
        case(
            "audit.elevate-access",
            Audit,
            json!({"category": "AzureRBACRoleManagementElevateAccess", "activityDisplayName": "User has elevated their access to User Access Administrator for their Azure Resources"}),
            json!({"activityDisplayName": "The role assignment of User Access Administrator has been removed from the user"}),
        ),
        case(
            "audit.cross-tenant-access-changed",
            Audit,
            json!({"category": "CrossTenantAccessSettings", "activityDisplayName": "Add a partner to cross-tenant access setting",
                "targetResources.0.modifiedProperties": [{"displayName": "tenantId", "oldValue": null, "newValue": "\"9f3b0c5e-0000-4000-8000-000000000001\""}]}),
            json!({"activityDisplayName": "Update user"}),
        ),
        case(
            "audit.partner-added",
            Audit,
            json!({"activityDisplayName": "Add partner to company", "targetResources.0.displayName": "Fabrikam Partners"}),
            json!({"activityDisplayName": "Remove partner from company"}),
        ),
        case(
            "audit.pim-setting-changed",
            Audit,
            json!({"loggedByService": "PIM", "category": "RoleManagement", "activityDisplayName": "Update role setting in PIM", "resultReason": "MFA on activation disabled", "targetResources.0.displayName": "Global Administrator"}),
            json!({"loggedByService": "PIM", "activityDisplayName": "Add member to role completed (PIM activation)"}),
        ),
        case(
            "audit.pim-alert-disabled",
            Audit,
            json!({"loggedByService": "PIM", "category": "RoleManagement", "activityDisplayName": "Disable PIM alert", "targetResources.0.displayName": "Roles are being assigned outside of Privileged Identity Management"}),
            json!({"loggedByService": "PIM", "category": "RoleManagement", "activityDisplayName": "Resolve PIM alert"}),
        ),
        case(
            "audit.pim-permanent-assignment",
            Audit,
            json!({"loggedByService": "PIM", "activityDisplayName": "Add eligible member to role in PIM completed (permanent)"}),
            json!({"loggedByService": "PIM", "activityDisplayName": "Add eligible member to role in PIM completed (timebound)"}),
        ),
        case(
            "audit.mfa-disabled",
            Audit,
            json!({"activityDisplayName": "Disable Strong Authentication"}),
            json!({"activityDisplayName": "Enable Strong Authentication"}),
        ),
        case(
            "audit.mfa-methods-cleared",
            Audit,
            json!({"activityDisplayName": "Update user", "category": "UserManagement",
                "targetResources.0.modifiedProperties": [{"displayName": "StrongAuthenticationMethod", "oldValue": "[{\"MethodType\":6,\"Default\":true}]", "newValue": "[]"}]}),
            json!({"activityDisplayName": "Update user", "category": "UserManagement",
                "targetResources.0.modifiedProperties": [{"displayName": "StrongAuthenticationMethod", "oldValue": "[]", "newValue": "[{\"MethodType\":6,\"Default\":true}]"}]}),
        ),
        case(
            "audit.security-info-deleted",
            Audit,
            json!({"category": "UserManagement", "loggedByService": "Authentication Methods", "activityDisplayName": "Admin deleted security info"}),
            json!({"loggedByService": "Authentication Methods", "activityDisplayName": "User changed default security info"}),
        ),
        case(
            "audit.federated-identity-credential",
            Audit,
            json!({"category": "ApplicationManagement", "activityDisplayName": "Update application",
                "targetResources.0": {"id": "app-1", "displayName": "Build Pipeline", "type": "Application",
                    "modifiedProperties": [{"displayName": "FederatedIdentityCredentials", "oldValue": "[]", "newValue": "[{\"Issuer\":\"https://token.actions.githubusercontent.com\",\"Subject\":\"repo:evil/x:ref:refs/heads/main\"}]"}]}}),
            json!({"category": "ApplicationManagement", "activityDisplayName": "Update application",
                "targetResources.0": {"id": "app-1", "displayName": "Build Pipeline", "type": "Application",
                    "modifiedProperties": [{"displayName": "DisplayName", "oldValue": "\"Build\"", "newValue": "\"Build Pipeline\""}]}}),
        ),
        case(
            "audit.service-principal-created",
            Audit,
            json!({"category": "ApplicationManagement", "activityDisplayName": "Add service principal", "targetResources.0.displayName": "Shiny App"}),
            // Microsoft's own provisioning of a first-party app: no user.
            json!({"category": "ApplicationManagement", "activityDisplayName": "Add service principal", "targetResources.0.displayName": "Microsoft Teams Services",
                "initiatedBy": {"app": {"displayName": "Microsoft Azure AD Internal - Jit Provisioning", "appId": null}}}),
        ),
        case(
            "audit.consent-granted",
            Audit,
            json!({"category": "ApplicationManagement", "activityDisplayName": "Consent to application", "targetResources.0.displayName": "Mail Helper"}),
            json!({"activityDisplayName": "Remove delegated permission grant"}),
        ),
        many(
            case(
                "audit.bulk-user-deletion",
                Audit,
                json!({"activityDisplayName": "Delete user", "targetResources.0.userPrincipalName": "user"}),
                json!({"activityDisplayName": "Delete user", "targetResources.0.userPrincipalName": "user"}),
            ),
            10,
            9,
            None,
        ),
        case(
            "audit.named-location-changed",
            Audit,
            json!({"category": "Policy", "activityDisplayName": "Update named location", "targetResources.0.displayName": "Trusted offices"}),
            json!({"category": "Policy", "activityDisplayName": "Update user"}),
        ),
        case(
            "audit.authorization-policy-changed",
            Audit,
            json!({"category": "Policy", "activityDisplayName": "Update authorization policy"}),
            json!({"category": "Policy", "activityDisplayName": "Update user"}),
        ),
        case(
            "audit.device-registered",
            Audit,
            json!({"category": "Device", "activityDisplayName": "Register device", "targetResources.0.displayName": "DESKTOP-EVIL"}),
            json!({"category": "Device", "activityDisplayName": "Update device"}),
        ),
        case(
            "audit.role-definition-changed",
            Audit,
            json!({"category": "RoleManagement", "activityDisplayName": "Add role definition", "targetResources.0.displayName": "Helpdesk Plus"}),
            json!({"category": "RoleManagement", "activityDisplayName": "Add member to role"}),
        ),
        case(
            "audit.admin-password-reset",
            Audit,
            json!({"activityDisplayName": "Reset user password"}),
            json!({"activityDisplayName": "Change user password"}),
        ),
        case(
            "mail.transport-rule-copies-or-redirects",
            Mail,
            json!({"operation": "New-TransportRule", "auditData.ObjectId": "Archive copy",
                "auditData.Parameters": [{"Name": "Name", "Value": "Archive copy"}, {"Name": "BlindCopyTo", "Value": "drop@evil.example"}]}),
            json!({"operation": "New-TransportRule", "auditData.ObjectId": "Disclaimer",
                "auditData.Parameters": [{"Name": "Name", "Value": "Disclaimer"}, {"Name": "ApplyHtmlDisclaimerText", "Value": "Confidential"}]}),
        ),
        case(
            "mail.remote-domain-autoforward",
            Mail,
            json!({"operation": "Set-RemoteDomain", "auditData.ObjectId": "Default",
                "auditData.Parameters": [{"Name": "Identity", "Value": "Default"}, {"Name": "AutoForwardEnabled", "Value": "True"}]}),
            json!({"operation": "Get-RemoteDomain"}),
        ),
        case(
            "mail.audit-bypass",
            Mail,
            json!({"operation": "Set-MailboxAuditBypassAssociation", "auditData.ObjectId": "svc-mail",
                "auditData.Parameters": [{"Name": "Identity", "Value": "svc-mail"}, {"Name": "AuditBypassEnabled", "Value": "True"}]}),
            json!({"operation": "Get-MailboxAuditBypassAssociation"}),
        ),
        case(
            "mail.audit-disabled",
            Mail,
            json!({"operation": "Set-AdminAuditLogConfig", "auditData.ObjectId": "Admin Audit Log Settings",
                "auditData.Parameters": [{"Name": "UnifiedAuditLogIngestionEnabled", "Value": "False"}]}),
            json!({"operation": "Set-Mailbox", "auditData.Parameters": [{"Name": "Identity", "Value": "adele"}, {"Name": "ProhibitSendQuota", "Value": "49GB"}]}),
        ),
        case(
            "mail.send-on-behalf-granted",
            Mail,
            json!({"operation": "Set-Mailbox", "auditData.ObjectId": "ceo",
                "auditData.Parameters": [{"Name": "Identity", "Value": "ceo"}, {"Name": "GrantSendOnBehalfTo", "Value": "megan.bowen"}]}),
            json!({"operation": "Set-Mailbox", "auditData.Parameters": [{"Name": "Identity", "Value": "ceo"}, {"Name": "MaxSendSize", "Value": "35MB"}]}),
        ),
        case(
            "mail.content-search",
            Mail,
            json!({"operation": "New-ComplianceSearch", "auditLogRecordType": "SecurityComplianceCenterEOPCmdlet", "auditData.ObjectId": "passwords",
                "auditData.Parameters": [{"Name": "ContentMatchQuery", "Value": "password"}]}),
            json!({"operation": "Get-ComplianceSearch"}),
        ),
        case(
            "mail.content-search-exported",
            Mail,
            json!({"operation": "New-ComplianceSearchAction", "auditLogRecordType": "SecurityComplianceCenterEOPCmdlet", "auditData.ObjectId": "passwords_Export",
                "auditData.Parameters": [{"Name": "Export", "Value": "True"}]}),
            json!({"operation": "Get-ComplianceSearchAction"}),
        ),
        many(
            case(
                "mail.files-mass-downloaded",
                Mail,
                json!({"operation": "FileDownloaded", "auditLogRecordType": "SharePointFileOperation", "auditData.Workload": "SharePoint", "auditData.SiteUrl": "https://contoso.sharepoint.com/sites/finance", "auditData.ClientIP": "203.0.113.7"}),
                json!({"operation": "FileDownloaded", "auditLogRecordType": "SharePointFileOperation", "auditData.Workload": "SharePoint", "auditData.SiteUrl": "https://contoso.sharepoint.com/sites/finance", "auditData.ClientIP": "203.0.113.7"}),
            ),
            100,
            99,
            None,
        ),
        many(
            case(
                "onprem.kerberoasting",
                Windows,
                json!({"EventID": 4769, "TicketEncryptionType": "0x17", "ServiceName": "svc-sql", "Status": "0x0", "IpAddress": "::ffff:10.0.9.9"}),
                json!({"EventID": 4769, "TicketEncryptionType": "0x12", "ServiceName": "svc-sql", "Status": "0x0", "IpAddress": "::ffff:10.0.9.9"}),
            ),
            5,
            5,
            Some("ServiceName"),
        ),
        case(
            "onprem.asrep-roasting",
            Windows,
            json!({"EventID": 4768, "PreAuthType": "0", "Status": "0x0", "TicketEncryptionType": "0x17"}),
            json!({"EventID": 4768, "PreAuthType": "2", "Status": "0x0", "TicketEncryptionType": "0x12"}),
        ),
        many(
            case(
                "onprem.password-spray",
                Windows,
                json!({"EventID": 4625, "LogonType": "3", "Status": "0xc000006d", "SubStatus": "0xc000006a", "TargetUserName": "user", "IpAddress": "10.0.9.9"}),
                json!({"EventID": 4625, "LogonType": "3", "Status": "0xc000006d", "SubStatus": "0xc000006a", "TargetUserName": "user", "IpAddress": "10.0.9.9"}),
            ),
            10,
            9,
            Some("TargetUserName"),
        ),
        many(
            case(
                "onprem.ntlm-password-spray",
                Windows,
                json!({"EventID": 4776, "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0", "Status": "0xc000006a", "TargetUserName": "user", "Workstation": "KALI"}),
                json!({"EventID": 4776, "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0", "Status": "0xc000006a", "TargetUserName": "user", "Workstation": "KALI"}),
            ),
            10,
            9,
            Some("TargetUserName"),
        ),
        many(
            case(
                "onprem.brute-force",
                Windows,
                json!({"EventID": 4771, "Status": "0x18", "TargetUserName": "adele.vance"}),
                json!({"EventID": 4771, "Status": "0x18", "TargetUserName": "adele.vance"}),
            ),
            20,
            19,
            None,
        ),
        case(
            "onprem.service-installed",
            Windows,
            json!({"Channel": "System", "Provider": "Service Control Manager", "EventID": 7045, "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe", "ServiceType": "user mode service", "StartType": "demand start"}),
            json!({"Channel": "System", "Provider": "Service Control Manager", "EventID": 7036, "param1": "Windows Update", "param2": "running"}),
        ),
        case(
            "onprem.shadow-credentials",
            Windows,
            json!({"EventID": 5136, "ObjectDN": "CN=DC02,OU=Domain Controllers,DC=contoso,DC=local", "ObjectClass": "computer", "AttributeLDAPDisplayName": "msDS-KeyCredentialLink", "OperationType": "%%14674"}),
            json!({"EventID": 5136, "ObjectDN": "CN=DC02,OU=Domain Controllers,DC=contoso,DC=local", "ObjectClass": "computer", "AttributeLDAPDisplayName": "description", "OperationType": "%%14674"}),
        ),
        case(
            "onprem.spn-added-to-user",
            Windows,
            json!({"EventID": 5136, "ObjectDN": "CN=Adele Vance,CN=Users,DC=contoso,DC=local", "ObjectClass": "user", "AttributeLDAPDisplayName": "servicePrincipalName", "AttributeValue": "http/fake.contoso.local"}),
            json!({"EventID": 5136, "ObjectDN": "CN=SQL01,CN=Computers,DC=contoso,DC=local", "ObjectClass": "computer", "AttributeLDAPDisplayName": "servicePrincipalName", "AttributeValue": "MSSQLSvc/sql01.contoso.local"}),
        ),
        case(
            "onprem.audit-policy-changed",
            Windows,
            json!({"EventID": 4719, "SubcategoryGuid": "{0CCE9215-69AE-11D9-BED3-505054503030}", "AuditPolicyChanges": "%%8448, %%8450"}),
            json!({"EventID": 4624, "LogonType": "3"}),
        ),
        case(
            "onprem.scheduled-task-created",
            Windows,
            json!({"EventID": 4698, "TaskName": "\\Microsoft\\Windows\\UpdateCheck", "TaskContent": "<Task/>"}),
            json!({"EventID": 4702, "TaskName": "\\Microsoft\\Windows\\UpdateCheck"}),
        ),
    ]
}

#[test]
fn each_new_rule_fires_on_its_record_and_not_on_the_near_miss_in_two_formats() {
    let mut failures = Vec::new();
    for c in cases() {
        for format in 0..2 {
            let name = ["first format", "second format"][format];
            let hit = fired(&records(&c, &c.hit, c.copies, format));
            if !hit.iter().any(|d| d == c.rule) {
                failures.push(format!("{} ({name}) did not fire: {hit:?}", c.rule));
            }
            let miss = fired(&records(&c, &c.miss, c.miss_copies, format));
            if miss.iter().any(|d| d == c.rule) {
                failures.push(format!("{} ({name}) fired on the near miss", c.rule));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The detections `warroom scan` raises over a file (`sigma_pack`: the
/// `WARROOM_SIGMA_PACK` to run it with, if any).
fn scanned(path: &std::path::Path, sigma_pack: Option<&str>) -> Vec<String> {
    let mut scan = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"));
    scan.args(["scan", "--format", "json"]).arg(path);
    if let Some(pack) = sigma_pack {
        scan.env("WARROOM_SIGMA_PACK", pack);
    }
    let out = scan.output().unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    findings
        .iter()
        .map(|f| f["detection"].as_str().unwrap().to_owned())
        .collect()
}

/// A successful sign-in at `minute` past ten from a place, in session `session`.
fn located(i: usize, minute: usize, place: (&str, &str, f64, f64), session: &str) -> Value {
    let (city, cc, lat, lon) = place;
    graph(
        Kind::SignIn,
        minute,
        &json!({
            "id": format!("s-{i}"), "ipAddress": format!("203.0.113.{}", 10 + i),
            "sessionId": session,
            "location": {"city": city, "state": "", "countryOrRegion": cc,
                "geoCoordinates": {"altitude": null, "latitude": lat, "longitude": lon}}
        }),
    )
}

/// The same sign-in as a `SigninLogs` row exported as JSON: the place in
/// `LocationDetails` (a dynamic column, held as text), the country alone
/// in `Location`.
fn signin_row(record: &Value) -> Value {
    let mut row = second(Kind::SignIn, record);
    let map = row.as_object_mut().unwrap();
    let place = map.remove("Location").unwrap();
    map.insert("Location".into(), place["countryOrRegion"].clone());
    map.insert("LocationDetails".into(), json!(place.to_string()));
    row
}

const LISBON: (&str, &str, f64, f64) = ("Lisbon", "PT", 38.72, -9.14);
const PORTO: (&str, &str, f64, f64) = ("Porto", "PT", 41.15, -8.61);
const SINGAPORE: (&str, &str, f64, f64) = ("Singapore", "SG", 1.35, 103.82);

/// Impossible travel and a replayed session, computed from the records:
/// each must fire on its shape and not on the near miss (a flight's worth
/// of time; a short hop inside one country), as Graph records and as Log
/// Analytics rows, through the engine and through `warroom scan` (whose
/// prefilter must let the records through).
#[test]
fn travel_and_session_replay_fire_on_their_shape_only_in_two_formats() {
    let session = "8f9e3c1d-5b2a-4c7e-9d10-2f3a4b5c6d7e";
    let hit = vec![
        located(0, 0, LISBON, session),
        located(1, 45, SINGAPORE, session),
    ];
    let miss = vec![
        located(0, 0, LISBON, session),
        located(1, 40, PORTO, session),
        // Thirteen hours later: a flight, under another session.
        graph(
            Kind::SignIn,
            0,
            &json!({"id": "s-2", "createdDateTime": "2026-11-20T23:30:00Z",
                "sessionId": "0d0e0f10-1112-4131-8415-161718191a1b",
                "location": {"city": "Singapore", "countryOrRegion": "SG",
                    "geoCoordinates": {"latitude": 1.35, "longitude": 103.82}}}),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (format, convert) in [
        ("Graph", (|v: &Value| v.clone()) as fn(&Value) -> Value),
        ("Log Analytics", signin_row),
    ] {
        for (case, records, want) in [("hit", &hit, true), ("near miss", &miss, false)] {
            let rows: Vec<Value> = records.iter().map(convert).collect();
            let engine = fired(&rows);
            let path = dir.path().join(format!("{format}-{case}.ndjson"));
            let text: Vec<String> = rows.iter().map(Value::to_string).collect();
            std::fs::write(&path, text.join("\n")).unwrap();
            let scanned = scanned(&path, None);
            for rule in ["signin.impossible-travel", "signin.session-replayed"] {
                for (how, seen) in [("engine", &engine), ("scan", &scanned)] {
                    assert_eq!(
                        seen.iter().any(|d| d == rule),
                        want,
                        "{rule} on the {case} as {format} ({how}): {seen:?}"
                    );
                }
            }
        }
    }
}

/// A member of a built-in group (`Builtin\Administrators`, 4732) added on
/// a domain controller is the domain's; the same record on any other host
/// is that machine's own local group. Told apart by the host's own
/// records, whatever their order, in both formats, through the engine
/// and through `warroom scan` (whose prefilter must let the host's
/// ticket-service records through).
#[test]
fn builtin_groups_are_the_domains_only_on_a_host_seen_acting_as_a_domain_controller() {
    let added = |i: usize, computer: &str| {
        graph(
            Kind::Windows,
            i,
            &json!({"EventID": 4732, "Computer": computer, "TargetUserName": "Administrators",
                "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544", "MemberName": "-",
                "MemberSid": "S-1-5-21-1004336348-1177238915-682003330-1105",
                "SubjectUserName": "admmig", "SubjectDomainName": "CONTOSO"}),
        )
    };
    let ticket = |i: usize, computer: &str| {
        graph(
            Kind::Windows,
            i,
            &json!({"EventID": 4769, "Computer": computer, "ServiceName": "cifs/fs01",
                "TicketEncryptionType": "0x12", "Status": "0x0"}),
        )
    };
    let local = "onprem.local-group-member-added";
    let builtin = "onprem.builtin-group-member-added";
    let cases = [
        // A member server: its own group, medium.
        (
            "member server",
            vec![added(0, "jump01.contoso.local")],
            local,
        ),
        // A domain controller, its ticket service seen after the change.
        (
            "domain controller",
            vec![
                added(0, "DC01.contoso.local"),
                ticket(1, "dc01.contoso.local"),
            ],
            builtin,
        ),
        // Another host's ticket service says nothing of this one.
        (
            "member server beside a DC",
            vec![
                ticket(0, "DC01.contoso.local"),
                added(1, "fs01.contoso.local"),
            ],
            local,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (format, convert) in [
        ("EVTX", (|v: &Value| v.clone()) as fn(&Value) -> Value),
        ("SecurityEvent", |v: &Value| second(Kind::Windows, v)),
    ] {
        for (case, records, want) in &cases {
            let rows: Vec<Value> = records.iter().map(convert).collect();
            let path = dir.path().join(format!("{format}-{case}.ndjson"));
            let text: Vec<String> = rows.iter().map(Value::to_string).collect();
            std::fs::write(&path, text.join("\n")).unwrap();
            let scanned = scanned(&path, Some("off"));
            for (how, seen) in [("engine", &fired(&rows)), ("scan", &scanned)] {
                for rule in [local, builtin, "onprem.privileged-group-member-added"] {
                    assert_eq!(
                        seen.iter().any(|d| d == rule),
                        rule == *want,
                        "{rule} on the {case} as {format} ({how}): {seen:?}"
                    );
                }
            }
        }
    }
}
