//! Well-known identifiers of Microsoft's own applications, Graph permissions
//! and directory roles. They are public constants of the real service; the
//! emulated tenant uses them so that what warroom learns here carries over.

/// The tenant that owns Microsoft's first-party applications.
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
pub const SHAREPOINT_APP_ID: &str = "00000003-0000-0ff1-ce00-000000000000";
pub const AZURE_MANAGEMENT_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

/// A first-party application: (appId, display name).
pub type FirstParty = (&'static str, &'static str);

/// Client applications people sign in with.
pub const CLIENT_APPS: &[FirstParty] = &[
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
    ("9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web"),
    (
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
    ),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
    (
        "14d82eec-204b-4c2f-b7e8-296a70dab67e",
        "Microsoft Graph Command Line Tools",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
];

/// Resources those clients ask tokens for.
pub const RESOURCES: &[FirstParty] = &[
    (EXCHANGE_APP_ID, "Office 365 Exchange Online"),
    (GRAPH_APP_ID, "Microsoft Graph"),
    (SHAREPOINT_APP_ID, "Office 365 SharePoint Online"),
    (
        AZURE_MANAGEMENT_APP_ID,
        "Windows Azure Service Management API",
    ),
];

/// Application permissions (app roles) of Microsoft Graph: (id, value).
pub mod graph_app_role {
    pub const MAIL_READ: &str = "810c84a8-4a9e-49e6-bf7d-12d183f40d01";
    pub const MAIL_READ_WRITE: &str = "e2a3a72e-5f79-4c64-b1b1-878b674786c9";
    pub const FILES_READ_ALL: &str = "01d4889c-1287-42c6-ac1f-5d1e02578ef6";
    pub const ROLE_MANAGEMENT_READ_WRITE_DIRECTORY: &str = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8";
    pub const DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";
    pub const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
    pub const AUDIT_LOG_READ_ALL: &str = "b0afded3-3588-46d8-8b3d-9842eff778da";
    pub const APPLICATION_READ_WRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";

    pub const ALL: &[(&str, &str)] = &[
        (MAIL_READ, "Mail.Read"),
        (MAIL_READ_WRITE, "Mail.ReadWrite"),
        (FILES_READ_ALL, "Files.Read.All"),
        (
            ROLE_MANAGEMENT_READ_WRITE_DIRECTORY,
            "RoleManagement.ReadWrite.Directory",
        ),
        (DIRECTORY_READ_ALL, "Directory.Read.All"),
        (USER_READ_ALL, "User.Read.All"),
        (AUDIT_LOG_READ_ALL, "AuditLog.Read.All"),
        (APPLICATION_READ_WRITE_ALL, "Application.ReadWrite.All"),
    ];
}

/// Exchange Online's app role that reads every mailbox over EWS.
pub const EXCHANGE_FULL_ACCESS_AS_APP: &str = "dc890d15-9560-4a4c-9b7f-a736ec74ec40";

/// Directory role templates: (templateId, display name, privileged).
pub const ROLES: &[(&str, &str, bool)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        true,
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        true,
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
        true,
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
        true,
    ),
    (
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
        "Hybrid Identity Administrator",
        true,
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
        true,
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
        true,
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        true,
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        false,
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        false,
    ),
];

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const EXCHANGE_ADMINISTRATOR: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
pub const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
pub const HYBRID_IDENTITY_ADMINISTRATOR: &str = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2";
pub const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
pub const SECURITY_ADMINISTRATOR: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";
