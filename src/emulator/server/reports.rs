//! The reports and Identity Protection APIs: sign-ins (Graph's filters,
//! newest first, cursor paging), directory audits and risk detections.

use super::*;

/// Applies a time comparison to an inclusive millisecond range.
fn narrow(range: &mut (i64, i64), op: Op, value: &str) -> Result<(), ApiError> {
    let t = time::parse(value)
        .ok_or_else(|| bad_filter(&format!("Invalid DateTimeOffset literal: {value}")))?;
    match op {
        Op::Ge => range.0 = range.0.max(t),
        Op::Gt => range.0 = range.0.max(t + 1),
        Op::Le => range.1 = range.1.min(t),
        Op::Lt => range.1 = range.1.min(t - 1),
        Op::Eq => {
            range.0 = range.0.max(t);
            range.1 = range.1.min(t + 999);
        }
        Op::Ne => {
            return Err(bad_filter(
                "The 'ne' operator is not supported on date properties.",
            ));
        }
    }
    Ok(())
}

fn kinds_of(alternatives: &[(Op, String)]) -> Result<u8, ApiError> {
    let mut mask = 0u8;
    for (op, value) in alternatives {
        let kind = Kind::from_name(value)
            .ok_or_else(|| bad_filter(&format!("Invalid signInEventTypes value '{value}'.")))?;
        mask |= match op {
            Op::Eq => kind.bit(),
            Op::Ne => 0b1111 & !kind.bit(),
            _ => return Err(bad_filter("signInEventTypes supports only eq and ne.")),
        };
    }
    Ok(mask)
}

fn signin_selection(
    tenant: &Tenant,
    clauses: &[Clause],
    beta: bool,
) -> Result<Selection, ApiError> {
    let mut s = Selection::default();
    let mut range = (i64::MIN, i64::MAX);
    let mut kinds: Option<u8> = None;
    for clause in clauses {
        match clause {
            Clause::Cmp { field, op, value } => match (field.as_str(), op) {
                ("createdDateTime", _) => narrow(&mut range, *op, value)?,
                ("userId" | "userPrincipalName", Op::Eq) => {
                    let upn = field == "userPrincipalName";
                    let index = tenant.signins.tables.principals.iter().position(|p| {
                        if upn {
                            p.upn.eq_ignore_ascii_case(value)
                        } else {
                            p.id.to_string().eq_ignore_ascii_case(value)
                        }
                    });
                    // Nobody by that name: a valid filter that matches nothing.
                    s.principal = Some(index.map_or(u32::MAX, |i| i as u32));
                }
                ("appId", Op::Eq) => s.app_id = Some(value.clone()),
                ("ipAddress", Op::Eq) => s.ip = Some(value.clone()),
                ("id", Op::Eq) => s.id = Some(Guid::parse(value).unwrap_or(Guid(u128::MAX))),
                _ => {
                    return Err(bad_filter(&format!(
                        "Unsupported filter on signIns: {field}"
                    )));
                }
            },
            Clause::Any {
                field,
                alternatives,
            } if field == "signInEventTypes" && beta => {
                let mask = kinds_of(alternatives)?;
                kinds = Some(kinds.map_or(mask, |k| k & mask));
            }
            Clause::Or(list) if beta => {
                let mut mask = 0u8;
                for c in list {
                    match c {
                        Clause::Any {
                            field,
                            alternatives,
                        } if field == "signInEventTypes" => mask |= kinds_of(alternatives)?,
                        _ => {
                            return Err(bad_filter(
                                "Only signInEventTypes clauses may be combined with 'or'.",
                            ));
                        }
                    }
                }
                kinds = Some(kinds.map_or(mask, |k| k & mask));
            }
            _ => return Err(bad_filter("Invalid filter clause for signIns.")),
        }
    }
    s.from_ms = range.0;
    s.to_ms = range.1;
    // Without a filter on signInEventTypes, Graph lists interactive sign-ins only.
    s.kinds = kinds.unwrap_or(Kind::Interactive.bit());
    Ok(s)
}

fn parse_cursor(token: &str) -> Option<Cursor> {
    let (t, k) = token.split_once('_')?;
    Some((t.parse().ok()?, u64::from_str_radix(k, 16).ok()?))
}

pub(super) fn signins(ctx: &Ctx<'_>, beta: bool, page: Paging) -> Response {
    let top = match page.top(SIGNIN_PAGE_MAX, SIGNIN_PAGE_MAX) {
        Ok(top) => top,
        Err(r) => return r.into_response(),
    };
    let clauses = match page.clauses() {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let tenant = ctx.emu.read();
    let selection = match signin_selection(&tenant, &clauses, beta) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let after = match page.skiptoken.as_deref() {
        None => None,
        Some(token) => match parse_cursor(token) {
            Some(cursor) => Some(cursor),
            None => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                );
            }
        },
    };
    let (records, next) = tenant.signins.page(&selection, top, after);
    let body = Envelope {
        context: ctx.context("auditLogs/signIns"),
        next_link: next.map(|(t, k)| ctx.next_link(&format!("{t}_{k:x}"))),
        value: WirePage {
            log: &tenant.signins,
            records: &records,
            beta,
        },
    };
    json_response(&body)
}

pub(super) fn signin(ctx: &Ctx<'_>, beta: bool, id: &str) -> Response {
    let tenant = ctx.emu.read();
    let Some(guid) = Guid::parse(id) else {
        return not_found(ctx.path).into_response();
    };
    let selection = Selection {
        kinds: 0b1111,
        id: Some(guid),
        ..Selection::default()
    };
    let (records, _) = tenant.signins.page(&selection, 1, None);
    match records.first() {
        Some(r) => {
            let mut body =
                serde_json::to_value(tenant.signins.wire(r, beta)).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                map.insert(
                    "@odata.context".into(),
                    Value::from(ctx.context("auditLogs/signIns/$entity")),
                );
            }
            json_response(&body)
        }
        None => not_found(ctx.path).into_response(),
    }
}

pub(super) fn audits(ctx: &Ctx<'_>, page: Paging) -> Response {
    let top = match page.top(SIGNIN_PAGE_MAX, SIGNIN_PAGE_MAX) {
        Ok(top) => top,
        Err(r) => return r.into_response(),
    };
    let clauses = match page.clauses() {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let mut range = (i64::MIN, i64::MAX);
    let mut activity = None;
    let mut category = None;
    for clause in &clauses {
        match clause {
            Clause::Cmp { field, op, value } if field == "activityDateTime" => {
                if let Err(r) = narrow(&mut range, *op, value) {
                    return r.into_response();
                }
            }
            Clause::Cmp {
                field,
                op: Op::Eq,
                value,
            } if field == "activityDisplayName" => activity = Some(value.clone()),
            Clause::Cmp {
                field,
                op: Op::Eq,
                value,
            } if field == "category" => category = Some(value.clone()),
            _ => return bad_filter("Invalid filter clause for directoryAudits.").into_response(),
        }
    }
    let tenant = ctx.emu.read();
    let items: Vec<Value> = tenant
        .audits
        .iter()
        .rev()
        .filter(|a| a.time_ms >= range.0 && a.time_ms <= range.1)
        .filter(|a| activity.as_deref().is_none_or(|x| a.activity == x))
        .filter(|a| category.as_deref().is_none_or(|x| a.category == x))
        .map(|a| a.json.clone())
        .collect();
    paged(ctx, "auditLogs/directoryAudits", items, top, &page)
}

pub(super) fn risks(ctx: &Ctx<'_>, page: Paging) -> Response {
    let top = match page.top(RISK_PAGE_MAX, RISK_PAGE_MAX) {
        Ok(top) => top,
        Err(r) => return r.into_response(),
    };
    let clauses = match page.clauses() {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let tenant = ctx.emu.read();
    let mut items: Vec<Value> = tenant.risks.iter().rev().map(|r| r.json.clone()).collect();
    for clause in &clauses {
        match clause {
            Clause::Cmp { field, op, value }
                if field == "activityDateTime" || field == "detectedDateTime" =>
            {
                let mut range = (i64::MIN, i64::MAX);
                if let Err(r) = narrow(&mut range, *op, value) {
                    return r.into_response();
                }
                items.retain(|v| {
                    v[field.as_str()]
                        .as_str()
                        .and_then(time::parse)
                        .is_some_and(|t| t >= range.0 && t <= range.1)
                });
            }
            Clause::Cmp { .. } => {
                if let Err(r) = filter_values(&mut items, std::slice::from_ref(clause)) {
                    return r.into_response();
                }
            }
            _ => return bad_filter("Invalid filter clause for riskDetections.").into_response(),
        }
    }
    paged(ctx, "identityProtection/riskDetections", items, top, &page)
}

pub(super) fn risky_users(tenant: &Tenant) -> Vec<Value> {
    let mut seen = Vec::new();
    for r in tenant.risks.iter().rev() {
        let id = r.json["userId"].as_str().unwrap_or_default().to_owned();
        if seen.iter().any(|v: &Value| v["id"] == id) {
            continue;
        }
        seen.push(json!({
            "id": id,
            "isDeleted": false,
            "isProcessing": false,
            "riskLastUpdatedDateTime": r.json["detectedDateTime"],
            "riskLevel": r.json["riskLevel"],
            "riskState": "atRisk",
            "riskDetail": "none",
            "userDisplayName": r.json["userDisplayName"],
            "userPrincipalName": r.json["userPrincipalName"],
        }));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(
            parse_cursor("1700000000000_ff"),
            Some((1_700_000_000_000, 255))
        );
        assert_eq!(parse_cursor("garbage"), None);
    }
}
