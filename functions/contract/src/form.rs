//! The one form codec: `application/x-www-form-urlencoded` bodies and URL queries, encoded and
//! decoded as the ingress decodes a webhook URL's query (API Gateway's rule: `+` is a space, an
//! escape that is not one is kept as it is). The CLI's provider client and stand-in, the local
//! ingress and the authorizer's URL reading all use it.

/// `text` percent-encoded for a form body or a query (`application/x-www-form-urlencoded`).
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// A query's `name=value` pairs, percent-decoded (`+` a space), in order; a pair without a
/// name is skipped. What the ingress hands its authorizer.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (!name.is_empty()).then(|| (decode(name), decode(value)))
        })
        .collect()
}

/// `text` percent-decoded, `+` a space; an escape that is not one is kept as it is.
pub fn decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_round_trip() {
        for text in [
            "https://x.test/webhook/stripe?key=mgk_a-b",
            "a b&c=d",
            "é/+%",
        ] {
            assert_eq!(decode(&encode(text)), text);
        }
        assert_eq!(decode("a+b%2Fc"), "a b/c");
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%zz"), "%zz", "an escape that is not one is kept");
        assert_eq!(
            pairs("url=a%3Fkey%3D1&enabled_events[]=x&flag"),
            vec![
                ("url".into(), "a?key=1".into()),
                ("enabled_events[]".into(), "x".into()),
                ("flag".into(), String::new()),
            ]
        );
    }
}
