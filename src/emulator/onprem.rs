//! The on-premises side of a scenario, as the servers' own logs hold it:
//! `warroom emulator --export-onprem DIR` writes what the AD FS farm and
//! the domain controller logged, consistent with the cloud sign-ins of the
//! same seed.
//!
//! - Every genuine federated interactive sign-in has its AD FS token
//!   issuance (1200) on one of two farm servers; forged ones have none. A
//!   few users first mistype their password: AD FS logs that (1203), and
//!   Entra ID, which never saw the password, logs nothing.
//!   ADFS01's Security log is written as Windows event XML (what
//!   `wevtutil qe /f:xml` gives), with a three-hour stretch of records lost
//!   (their record numbers missing); ADFS02's as Log Analytics
//!   `SecurityEvent` rows.
//! - In `golden-saml`, the night before the first forged token: the AD FS
//!   configuration database read over its named pipe (Sysmon 18) and its
//!   SQL audit (33205) on ADFS01, the DKM key read (4662 on
//!   `thumbnailPhoto`) on DC01, then a new account put in Domain Admins.
//!   Beside them, what AD FS does every day: its service account reading
//!   the same key and its own process opening the same pipe.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::generate::FEDERATION_ISSUER;
use super::ids::{Guid, mix};
use super::signins::{Issuer, Kind, SignIn};
use super::tenant::Tenant;
use super::time::{DAY, HOUR, MINUTE, iso};

/// The on-premises account the attacker holds.
pub const ATTACKER_ACCOUNT: &str = "svc-sqlbackup";
/// The account the attacker creates and makes Domain Admin.
pub const BACKDOOR_ACCOUNT: &str = "adfs-sync";
/// The AD FS service account (a group managed service account).
pub const ADFS_SERVICE_ACCOUNT: &str = "svc_adfs$";
pub const NETBIOS: &str = "CONTOSO";
const ADFS01: &str = "ADFS01.contoso.com";
const ADFS02: &str = "ADFS02.contoso.com";
const DC01: &str = "DC01.contoso.com";
const SECURITY_AUDITING: &str = "Microsoft-Windows-Security-Auditing";
const DKM_CONTAINER: &str = "CN=5f3c2e1a-8d4b-4c7e-9a61-2b7d0e9f4c38,CN=ADFS,CN=Microsoft,CN=Program Data,DC=contoso,DC=com";
const THUMBNAIL_PHOTO: &str = "{8d3bca50-1d7e-11d0-a081-00aa006c33ed}";
const WID_PIPE: &str = "\\MICROSOFT##WID\\tsql\\query";

/// What was written.
#[derive(Debug)]
pub struct Written {
    pub files: Vec<PathBuf>,
    /// Token issuances written (both servers).
    pub issuances: usize,
    /// Where ADFS01's exported log lacks its records: (from, to) in ms.
    pub gap: Option<(i64, i64)>,
}

/// One Windows event to write, in either shape.
struct WinEvent {
    time_ms: i64,
    id: u32,
    provider: &'static str,
    channel: &'static str,
    computer: &'static str,
    /// Named data items; unnamed ones have an empty name.
    data: Vec<(&'static str, String)>,
}

/// Writes the on-premises evidence into `dir` (created if missing).
pub fn export(tenant: &Tenant, dir: &Path) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let forged: BTreeSet<&str> = tenant
        .answer_key
        .sign_in_ids
        .iter()
        .map(String::as_str)
        .collect();
    let log = &tenant.signins;
    let (mut farm1, mut farm2) = (Vec::new(), Vec::new());
    for r in log.records() {
        if r.kind != Kind::Interactive
            || r.issuer == Issuer::EntraId
            || forged.contains(r.id().to_string().as_str())
        {
            continue;
        }
        let farm = if mix(r.key).is_multiple_of(2) {
            &mut farm1
        } else {
            &mut farm2
        };
        if r.error == 0 && mistyped_first(r) {
            farm.push(password_failure(tenant, r));
        }
        farm.push(issuance(tenant, r));
    }
    // A log's records are numbered in the order they were written.
    farm1.sort_by_key(|e| e.time_ms);
    farm2.sort_by_key(|e| e.time_ms);
    let issuances = farm1.iter().chain(&farm2).filter(|e| e.id == 1200).count();
    let gap = gap_window(&farm2, &farm1, tenant);
    let mut files = Vec::new();
    files.push(write_xml(dir, "ADFS01-Security.xml", &farm1, gap)?);
    files.push(write_log_analytics(
        dir,
        "ADFS02-SecurityEvent.json",
        &farm2,
        tenant,
    )?);
    let story = tenant.answer_key.scenario == "golden-saml";
    let end = log.records().last().map_or(0, |r| r.time_ms);
    let (sysmon, application, dc) = side_events(tenant, end, story);
    files.push(write_xml(dir, "ADFS01-Sysmon.xml", &sysmon, None)?);
    files.push(write_xml(
        dir,
        "ADFS01-Application.xml",
        &application,
        None,
    )?);
    files.push(write_xml(dir, "DC01-Security.xml", &dc, None)?);
    Ok(Written {
        files,
        issuances,
        gap,
    })
}

/// AD FS's record of the token behind a sign-in, a few seconds before it.
fn issuance(tenant: &Tenant, r: &SignIn) -> WinEvent {
    let time_ms = r.time_ms - 1_500 - (mix(r.key ^ 0x1200) % 20_000) as i64;
    adfs_audit(
        tenant,
        r,
        1200,
        time_ms,
        ("AppTokenAudit", "AppToken", "Success", "None"),
    )
}

/// Whether the user behind a successful federated sign-in first typed a
/// wrong password at AD FS (three in a hundred, as for cloud users).
fn mistyped_first(r: &SignIn) -> bool {
    mix(r.key ^ 0x1203) % 1000 < 30
}

/// AD FS's record of a wrong password (1203) half a minute to two minutes
/// before the sign-in that then succeeded. Entra ID logs nothing of it: the
/// password never reached it.
fn password_failure(tenant: &Tenant, r: &SignIn) -> WinEvent {
    let time_ms = r.time_ms - 30_000 - (mix(r.key ^ 0x1203) % 90_000) as i64;
    adfs_audit(
        tenant,
        r,
        1203,
        time_ms,
        (
            "FreshCredentialAudit",
            "FreshCredentials",
            "Failure",
            "CredentialValidationError",
        ),
    )
}

/// An AD FS audit (`AuditBase` XML as the event's second data item) of a
/// request for Microsoft Online by the sign-in's user, from its address
/// and browser: (audit type name, audit type, result, failure type).
fn adfs_audit(
    tenant: &Tenant,
    r: &SignIn,
    id: u32,
    time_ms: i64,
    (kind, audit_type, result, failure): (&str, &str, &str, &str),
) -> WinEvent {
    let tables = &tenant.signins.tables;
    let who = &tables.principals[r.principal as usize];
    let account = who.upn.split('@').next().unwrap_or(&who.upn);
    let ip = &tables.places[r.place as usize].ip;
    let agent = tables
        .agents
        .get(usize::from(r.agent))
        .map_or("", String::as_str);
    let mut audit = String::new();
    let _ = write!(
        audit,
        "<?xml version=\"1.0\" encoding=\"utf-16\"?><AuditBase xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{kind}\">\
         <AuditType>{audit_type}</AuditType><AuditResult>{result}</AuditResult><FailureType>{failure}</FailureType>\
         <ErrorCode>N/A</ErrorCode><ContextComponents><Component xsi:type=\"ResourceAuditComponent\">\
         <RelyingParty>urn:federation:MicrosoftOnline</RelyingParty><ClaimsProvider>AD AUTHORITY</ClaimsProvider>\
         <UserId>{NETBIOS}\\{}</UserId></Component><Component xsi:type=\"AuthNAuditComponent\">\
         <PrimaryAuth>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</PrimaryAuth>\
         <DeviceAuth>false</DeviceAuth><DeviceId>N/A</DeviceId><MfaPerformed>false</MfaPerformed>\
         <MfaMethod>N/A</MfaMethod><TokenBindingProvidedId>false</TokenBindingProvidedId>\
         <TokenBindingReferredId>false</TokenBindingReferredId><SsoBindingValidationLevel>NotSet</SsoBindingValidationLevel>\
         </Component><Component xsi:type=\"RequestAuditComponent\"><Server>{}</Server>\
         <AuthProtocol>WSFederation</AuthProtocol><NetworkLocation>Extranet</NetworkLocation>\
         <IpAddress>{}</IpAddress><ForwardedIpAddress>{}</ForwardedIpAddress><ProxyIpAddress>N/A</ProxyIpAddress>\
         <NetworkIpAddress>N/A</NetworkIpAddress><ProxyServer>WAP01</ProxyServer><UserAgentString>{}</UserAgentString>\
         <Endpoint>/adfs/ls/</Endpoint></Component></ContextComponents></AuditBase>",
        xml_text(account),
        xml_text(FEDERATION_ISSUER),
        xml_text(ip),
        xml_text(ip),
        xml_text(agent),
    );
    WinEvent {
        time_ms,
        id,
        provider: "AD FS Auditing",
        channel: "Security",
        computer: if mix(r.key).is_multiple_of(2) {
            ADFS01
        } else {
            ADFS02
        },
        data: vec![
            (
                "",
                Guid::from_seed(mix(r.key ^ 0xadf5 ^ u64::from(id))).to_string(),
            ),
            ("", audit),
        ],
    }
}

/// Three hours between ten and two days before the end in which `holed`
/// logged tokens and `other` logged the most: where `holed`'s exported
/// log lacks its records, so the hole shows against a busy farm.
fn gap_window(other: &[WinEvent], holed: &[WinEvent], tenant: &Tenant) -> Option<(i64, i64)> {
    let end = tenant.signins.records().last()?.time_ms;
    let (from, to) = (end - 10 * DAY, end - 2 * DAY);
    let sorted = |events: &[WinEvent]| {
        let mut times: Vec<i64> = events
            .iter()
            .map(|e| e.time_ms)
            .filter(|t| (from..to).contains(t))
            .collect();
        times.sort_unstable();
        times
    };
    let (one, two) = (sorted(other), sorted(holed));
    let width = 3 * HOUR;
    let within = |times: &[i64], start: i64| {
        times.partition_point(|t| *t < start + width) - times.partition_point(|t| *t < start)
    };
    let (_, start) = two
        .iter()
        .filter(|start| within(&two, **start) >= 3)
        .map(|start| (within(&one, *start), *start))
        .max()?;
    // Widened so the hole has clear edges on both sides.
    Some((start - MINUTE, start + width))
}

/// Everything but token issuance: AD FS's daily work on ADFS01 and DC01,
/// and in `golden-saml` the attacker's night before the first forgery.
fn side_events(
    tenant: &Tenant,
    end: i64,
    story: bool,
) -> (Vec<WinEvent>, Vec<WinEvent>, Vec<WinEvent>) {
    let (mut sysmon, mut application, mut dc) = (Vec::new(), Vec::new(), Vec::new());
    let days = (end - tenant.signins.records().first().map_or(end, |r| r.time_ms)) / DAY;
    // AD FS restarts each night: its own process opens the database pipe
    // and its service account reads the key it decrypts the signing
    // certificate with.
    for day in 0..=days {
        let at = end - day * DAY - 20 * HOUR;
        sysmon.push(pipe_connected(
            at,
            "C:\\Windows\\ADFS\\Microsoft.IdentityServer.ServiceHost.exe",
            &format!("{NETBIOS}\\{ADFS_SERVICE_ACCOUNT}"),
        ));
        dc.push(dkm_read(at + 2_000, ADFS_SERVICE_ACCOUNT));
    }
    if story {
        let night = end - 9 * DAY - 4 * HOUR;
        let actor = format!("{NETBIOS}\\{ATTACKER_ACCOUNT}");
        sysmon.push(pipe_connected(
            night,
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            &actor,
        ));
        application.push(WinEvent {
            time_ms: night + 1_000,
            id: 33205,
            provider: "MSSQL$MICROSOFT##WID",
            channel: "Application",
            computer: ADFS01,
            data: vec![(
                "",
                format!(
                    "Audit event: action_id:SL class_type:U succeeded:true server_principal_name:{actor} \
                     server_instance_name:ADFS01\\MICROSOFT##WID database_name:AdfsConfigurationV4 \
                     schema_name:IdentityServerPolicy object_name:ServiceSettings \
                     statement:SELECT ServiceSettingsData from IdentityServerPolicy.ServiceSettings"
                ),
            )],
        });
        dc.push(dkm_read(night + 6 * MINUTE, ATTACKER_ACCOUNT));
        dc.push(dkm_read(night + 6 * MINUTE + 700, ATTACKER_ACCOUNT));
        let sid = "S-1-5-21-3623811015-3361044348-30300820-4107".to_owned();
        dc.push(WinEvent {
            time_ms: night + 40 * MINUTE,
            id: 4720,
            provider: SECURITY_AUDITING,
            channel: "Security",
            computer: DC01,
            data: vec![
                ("TargetUserName", BACKDOOR_ACCOUNT.into()),
                ("TargetDomainName", NETBIOS.into()),
                ("TargetSid", sid.clone()),
                ("SubjectUserName", ATTACKER_ACCOUNT.into()),
                ("SubjectDomainName", NETBIOS.into()),
                ("SamAccountName", BACKDOOR_ACCOUNT.into()),
            ],
        });
        dc.push(WinEvent {
            time_ms: night + 41 * MINUTE,
            id: 4728,
            provider: SECURITY_AUDITING,
            channel: "Security",
            computer: DC01,
            data: vec![
                (
                    "MemberName",
                    format!("CN={BACKDOOR_ACCOUNT},CN=Users,DC=contoso,DC=com"),
                ),
                ("MemberSid", sid),
                ("TargetUserName", "Domain Admins".into()),
                ("TargetDomainName", NETBIOS.into()),
                (
                    "TargetSid",
                    "S-1-5-21-3623811015-3361044348-30300820-512".into(),
                ),
                ("SubjectUserName", ATTACKER_ACCOUNT.into()),
                ("SubjectDomainName", NETBIOS.into()),
            ],
        });
    }
    for events in [&mut sysmon, &mut application, &mut dc] {
        events.sort_by_key(|e| e.time_ms);
    }
    (sysmon, application, dc)
}

fn pipe_connected(time_ms: i64, image: &str, user: &str) -> WinEvent {
    WinEvent {
        time_ms,
        id: 18,
        provider: "Microsoft-Windows-Sysmon",
        channel: "Microsoft-Windows-Sysmon/Operational",
        computer: ADFS01,
        data: vec![
            ("RuleName", "-".into()),
            ("EventType", "ConnectPipe".into()),
            ("UtcTime", iso(time_ms)),
            ("PipeName", WID_PIPE.into()),
            ("Image", image.into()),
            ("User", user.into()),
        ],
    }
}

fn dkm_read(time_ms: i64, account: &str) -> WinEvent {
    WinEvent {
        time_ms,
        id: 4662,
        provider: SECURITY_AUDITING,
        channel: "Security",
        computer: DC01,
        data: vec![
            ("SubjectUserName", account.into()),
            ("SubjectDomainName", NETBIOS.into()),
            ("ObjectServer", "DS".into()),
            (
                "ObjectType",
                "%{5cb41ed0-0e4c-11d0-a286-00aa003049e2}".into(),
            ),
            ("ObjectName", DKM_CONTAINER.into()),
            ("OperationType", "Object Access".into()),
            ("AccessMask", "0x10".into()),
            (
                "Properties",
                format!(
                    "%%7684\r\n\t\t{{77b5b886-944a-11d1-aebd-0000f80367c1}}\r\n\t\t\t{THUMBNAIL_PHOTO}\r\n\t{{5cb41ed0-0e4c-11d0-a286-00aa003049e2}}\r\n"
                ),
            ),
        ],
    }
}

/// Text safe inside an XML element or a double-quoted attribute.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters cannot be written in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Windows event XML, one `<Event>` per record inside `<Events>`, with
/// record numbers in order as one log's are; records in `hole` are lost
/// (their numbers are skipped, as in a log partly overwritten or damaged).
fn write_xml(
    dir: &Path,
    name: &str,
    events: &[WinEvent],
    hole: Option<(i64, i64)>,
) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>")?;
    let mut record = 40_000u64;
    for e in events {
        record += 1;
        if hole.is_some_and(|(from, to)| (from..to).contains(&e.time_ms)) {
            continue;
        }
        let mut data = String::new();
        for (name, value) in &e.data {
            if name.is_empty() {
                let _ = write!(data, "<Data>{}</Data>", xml_text(value));
            } else {
                let _ = write!(data, "<Data Name=\"{name}\">{}</Data>", xml_text(value));
            }
        }
        let keywords = if e.channel == "Security" {
            "0x8020000000000000"
        } else {
            "0x8000000000000000"
        };
        writeln!(
            out,
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>\
             <Provider Name=\"{}\"/><EventID>{}</EventID><Version>0</Version><Level>0</Level>\
             <Keywords>{keywords}</Keywords><TimeCreated SystemTime=\"{}\"/><EventRecordID>{record}</EventRecordID>\
             <Channel>{}</Channel><Computer>{}</Computer><Security/></System><EventData>{data}</EventData></Event>",
            xml_text(e.provider),
            e.id,
            iso(e.time_ms),
            xml_text(e.channel),
            e.computer,
        )?;
    }
    writeln!(out, "</Events>")?;
    out.flush()?;
    Ok(path)
}

/// Log Analytics `SecurityEvent` rows, one JSON object per line, as a
/// workspace query exports them: the event's data as an XML string.
fn write_log_analytics(
    dir: &Path,
    name: &str,
    events: &[WinEvent],
    tenant: &Tenant,
) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let workspace = Guid::from_seed(mix(tenant.id.to_string().len() as u64 ^ 0x1a)).to_string();
    for (i, e) in events.iter().enumerate() {
        let mut data = String::from(
            "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">",
        );
        for (_, value) in &e.data {
            let _ = write!(data, "<Data>{}</Data>", xml_text(value));
        }
        data.push_str("</EventData>");
        let row = serde_json::json!({
            "TenantId": workspace,
            "TimeGenerated": iso(e.time_ms),
            "SourceSystem": "OpsManager",
            "Account": "",
            "Computer": e.computer,
            "EventSourceName": e.provider,
            "Channel": e.channel,
            "Task": 3,
            "Level": "0",
            "EventData": data,
            "EventID": e.id,
            "Activity": format!("{} - The Federation Service issued a valid token.", e.id),
            "EventOriginId": Guid::from_seed(mix(i as u64 ^ 0x0a02)).to_string(),
            "Type": "SecurityEvent",
        });
        writeln!(out, "{row}")?;
    }
    out.flush()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_markup_and_drops_control_characters() {
        assert_eq!(
            xml_text("a<b>&\"c'\u{1b}[31m"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}[31m"
        );
    }
}
