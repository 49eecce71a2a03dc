//! Identifiers: a readable prefix and 128 random bits, so ids are
//! unguessable and a stray id in a log says what it names.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id such as `file_3k9x…`: `prefix`, an underscore, and 26 characters
/// of Crockford base32 carrying 130 random bits.
pub fn new_id(prefix: &str) -> String {
    new_id_with(prefix, &mut rand::rng())
}

/// A random secret of `len` base32 characters (5 bits each).
pub fn random_token(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect()
}

fn new_id_with(prefix: &str, rng: &mut impl Rng) -> String {
    let mut id = String::with_capacity(prefix.len() + 27);
    id.push_str(prefix);
    id.push('_');
    for _ in 0..26 {
        id.push(ALPHABET[rng.random_range(0..32)] as char);
    }
    id
}

/// Whether `id` has the shape `new_id(prefix)` produces. Lets handlers answer
/// 404 for garbage without a catalog round trip.
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| ALPHABET.contains(&b))
}

/// The prefixes in use, in one place.
pub mod prefix {
    pub const TENANT: &str = "ten";
    pub const PROJECT: &str = "prj";
    pub const FILE: &str = "file";
    pub const UPLOAD: &str = "upl";
    pub const KEY: &str = "key";
    pub const USER: &str = "usr";
    pub const BLOB: &str = "blob";
    pub const ACTIVITY: &str = "act";
    pub const INTENT: &str = "int";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_prefix_and_are_distinct() {
        let a = new_id("file");
        let b = new_id("file");
        assert!(is_id("file", &a), "{a}");
        assert_ne!(a, b);
        assert!(!is_id("file", "file_../etc/passwd"));
        assert!(!is_id("upl", &a));
    }
}
