//! Who may call once their token is valid (`--auth-allow`): exact emails, `*@domain` email
//! suffixes and `hd=domain` Google Workspace hosted domains. Every rule needs
//! `email_verified: true`. An empty list allows any valid token for the audience. Pure logic;
//! token verification lives in `token`.

use std::collections::HashSet;

use super::token::Caller;

/// The parsed `--auth-allow` rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    /// Lowercased exact addresses.
    emails: HashSet<String>,
    /// Lowercased domains of `*@domain` rules.
    email_domains: Vec<String>,
    /// Lowercased `hd` claims of `hd=domain` rules.
    hosted_domains: Vec<String>,
}

/// Why a valid token is not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The token has no email, or its `email_verified` is not true.
    EmailUnverified,
    /// No rule matches.
    NotAllowed,
}

impl AllowList {
    /// Parses rules; the error names the rule and says what is accepted.
    pub fn parse<S: AsRef<str>>(rules: &[S]) -> Result<Self, String> {
        let mut list = Self::default();
        for rule in rules {
            let rule = rule.as_ref().trim();
            if rule.is_empty() {
                // An empty SKSERVE_AUTH_ALLOW, or a trailing comma.
                continue;
            }
            let lower = rule.to_ascii_lowercase();
            if let Some(domain) = lower.strip_prefix("hd=") {
                if !valid_domain(domain) {
                    return Err(format!(
                        "'{rule}': expected hd=DOMAIN (e.g. hd=example.com)"
                    ));
                }
                list.hosted_domains.push(domain.to_owned());
            } else if let Some(domain) = lower.strip_prefix("*@") {
                if !valid_domain(domain) {
                    return Err(format!("'{rule}': expected *@DOMAIN (e.g. *@example.com)"));
                }
                list.email_domains.push(domain.to_owned());
            } else if let Some((local, domain)) = lower.split_once('@')
                && !local.is_empty()
                && !local.contains('*')
                && valid_domain(domain)
            {
                list.emails.insert(lower);
            } else {
                return Err(format!(
                    "'{rule}' is not an email address, *@DOMAIN or hd=DOMAIN"
                ));
            }
        }
        Ok(list)
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.email_domains.is_empty() && self.hosted_domains.is_empty()
    }

    /// Whether the caller may call.
    pub fn check(&self, caller: &Caller) -> Result<(), Refusal> {
        if self.is_empty() {
            return Ok(());
        }
        let Some(email) = caller.email.as_deref().filter(|_| caller.email_verified) else {
            return Err(Refusal::EmailUnverified);
        };
        let email = email.to_ascii_lowercase();
        let domain = email.rsplit_once('@').map(|(_, d)| d);
        let allowed = self.emails.contains(&email)
            || domain.is_some_and(|d| self.email_domains.iter().any(|allowed| allowed == d))
            || caller.hosted_domain.as_deref().is_some_and(|hd| {
                self.hosted_domains
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(hd))
            });
        if allowed {
            Ok(())
        } else {
            Err(Refusal::NotAllowed)
        }
    }
}

fn valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && !domain.starts_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(email: &str, verified: bool, hd: Option<&str>) -> Caller {
        Caller {
            subject: "1".into(),
            email: Some(email.into()),
            email_verified: verified,
            hosted_domain: hd.map(Into::into),
        }
    }

    #[test]
    fn rules_match_emails_suffixes_and_hosted_domains() {
        let list = AllowList::parse(&[
            "Ana@Example.com",
            "*@my-project.iam.gserviceaccount.com",
            "hd=corp.example",
        ])
        .unwrap();
        assert_eq!(list.check(&caller("ana@example.com", true, None)), Ok(()));
        assert_eq!(
            list.check(&caller("ci@my-project.iam.gserviceaccount.com", true, None)),
            Ok(())
        );
        assert_eq!(
            list.check(&caller("bo@corp.example", true, Some("corp.example"))),
            Ok(())
        );
        assert_eq!(
            list.check(&caller("eve@example.com", true, None)),
            Err(Refusal::NotAllowed)
        );
        // A suffix rule is the whole domain, not a substring of it.
        assert_eq!(
            list.check(&caller(
                "x@evil-my-project.iam.gserviceaccount.com",
                true,
                None
            )),
            Err(Refusal::NotAllowed)
        );
        assert_eq!(
            list.check(&caller("ana@example.com", false, None)),
            Err(Refusal::EmailUnverified)
        );
    }

    #[test]
    fn an_empty_list_allows_any_valid_token() {
        let list = AllowList::parse::<&str>(&[]).unwrap();
        assert_eq!(
            list.check(&caller("anyone@example.org", false, None)),
            Ok(())
        );
    }

    #[test]
    fn malformed_rules_are_refused() {
        for bad in [
            "example.com",
            "*@",
            "hd=",
            "a*@example.com",
            "*.example.com",
            "@x.com",
        ] {
            assert!(AllowList::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
