//! A webhook URL read once, the way a provider's delivery reaches the ingress: what an HTTP
//! client sends (never the `#fragment`), where it goes (scheme and host in any case, the
//! default port implied), and the API key its query carries, percent-decoded as API Gateway and
//! `mgrid dev`'s ingress decode it. The ingress, `mgrid doctor` and the revoke guard all read
//! URLs here, so what doctor calls "the current key" is what the authorizer is handed.

/// The API key a URL's query hands the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlKey {
    /// No `key=`: the authorizer answers 401.
    Missing,
    /// One `key=`, decoded.
    One(String),
    /// `key=` more than once: the authorizer refuses it (403, `repeated-key`).
    Repeated,
}

/// A webhook URL as a delivery reaches the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUrl {
    /// Where it delivers: scheme and host in lower case, the scheme's default port left out,
    /// the path without a trailing slash, no query, no fragment.
    pub address: String,
    pub key: UrlKey,
}

impl DeliveryUrl {
    pub fn read(url: &str) -> DeliveryUrl {
        // A fragment is the client's own: it is never sent.
        let sent = url.split_once('#').map_or(url, |(sent, _)| sent);
        let (address, query) = sent.split_once('?').unwrap_or((sent, ""));
        let keys: Vec<String> = crate::form::pairs(query)
            .into_iter()
            .filter(|(name, _)| name == "key")
            .map(|(_, value)| value)
            .collect();
        let key = match <[String; 1]>::try_from(keys) {
            Ok([key]) => UrlKey::One(key),
            Err(keys) if keys.is_empty() => UrlKey::Missing,
            Err(_) => UrlKey::Repeated,
        };
        DeliveryUrl {
            address: normal_address(address),
            key,
        }
    }

    /// Whether it delivers where `other` does.
    pub fn same_address(&self, other: &str) -> bool {
        self.address == DeliveryUrl::read(other).address
    }
}

/// `HTTPS://Host.Example:443/prod/` as `https://host.example/prod`.
fn normal_address(address: &str) -> String {
    let Some((scheme, rest)) = address.split_once("://") else {
        return address.trim_end_matches('/').to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let authority = if default_port.is_empty() {
        authority.as_str()
    } else {
        authority
            .strip_suffix(default_port)
            .unwrap_or(authority.as_str())
    };
    format!("{scheme}://{authority}{}", path.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAGE: &str = "https://abc.execute-api.eu-west-1.amazonaws.com/prod/webhook/stripe";

    #[test]
    fn every_form_of_a_url_reads_as_the_ingress_receives_it() {
        let one = |key: &str| UrlKey::One(key.to_owned());
        let table = [
            (format!("{STAGE}?key=mgk_a"), one("mgk_a"), true),
            (format!("{STAGE}/?key=mgk_a"), one("mgk_a"), true),
            (format!("{STAGE}?key=mgk%5Fa"), one("mgk_a"), true),
            (format!("{STAGE}?x=1&key=mgk_a&y="), one("mgk_a"), true),
            (format!("{STAGE}#key=mgk_a"), UrlKey::Missing, true),
            (format!("{STAGE}?a=1#&key=mgk_a"), UrlKey::Missing, true),
            (
                format!("{STAGE}?key=mgk_a&key=mgk_a"),
                UrlKey::Repeated,
                true,
            ),
            (
                format!("{STAGE}?key=mgk_a&k%65y=mgk_b"),
                UrlKey::Repeated,
                true,
            ),
            (
                STAGE.replace("https://abc", "HTTPS://ABC") + "?key=mgk_a",
                one("mgk_a"),
                true,
            ),
            (
                STAGE.replace(".com/", ".com:443/") + "?key=mgk_a",
                one("mgk_a"),
                true,
            ),
            (
                STAGE.replace("/prod/", "/Prod/") + "?key=mgk_a",
                one("mgk_a"),
                false,
            ),
            (
                STAGE.replace("https", "http") + "?key=mgk_a",
                one("mgk_a"),
                false,
            ),
            (format!("{STAGE}?keys=mgk_a"), UrlKey::Missing, true),
        ];
        for (url, key, here) in table {
            let read = DeliveryUrl::read(&url);
            assert_eq!(read.key, key, "{url}");
            assert_eq!(read.same_address(STAGE), here, "{url}");
        }
    }

    #[test]
    fn queries_decode_as_the_ingress_decodes_them() {
        let pairs = crate::form::pairs("key=mgk_stripe_a%2Db&x=1+2&empty=&=skip&bad=%zz");
        assert_eq!(
            pairs,
            [
                ("key".to_owned(), "mgk_stripe_a-b".to_owned()),
                ("x".to_owned(), "1 2".to_owned()),
                ("empty".to_owned(), String::new()),
                ("bad".to_owned(), "%zz".to_owned()),
            ]
        );
    }
}
