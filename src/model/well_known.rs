//! Ids every Entra tenant shares, named once for the posture checks that
//! judge them and the emulator that serves them.

/// Microsoft's first-party tools that reach the whole directory: (app id,
/// name).
pub const ADMIN_TOOLS: &[(&str, &str)] = &[
    (
        "14d82eec-204b-4c2f-b7e8-296a70dab67e",
        "Microsoft Graph Command Line Tools",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    ("de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer"),
];

/// The built-in "Phishing-resistant MFA" authentication strength.
pub const PHISHING_RESISTANT_STRENGTH: &str = "00000000-0000-0000-0000-000000000004";

/// `guestUserRoleId` when guests see the directory as members do.
pub const GUEST_LIKE_MEMBER: &str = "a0b1b346-4d3e-4e8b-98f8-753987be4970";
/// `guestUserRoleId` when guests see only their own objects.
pub const GUEST_RESTRICTED: &str = "2af84b1e-32c8-42b7-82bc-daa82404023b";
