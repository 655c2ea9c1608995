//! A new key's id: `key_` and 24 lowercase hex digits, from random bytes the caller draws (the
//! core owns no RNG). Every surface that makes a key (the admin API, the console, an import
//! without ids, the npm plans) names it by this one format.

use alloc::string::String;

/// What every generated key id starts with.
pub const KEY_ID_PREFIX: &str = "key_";

/// How many random bytes a key id is made of (96 bits, written as 24 hex digits).
pub const KEY_ID_RANDOM_BYTES: usize = 12;

/// The key id made of `random` (bytes from a CSPRNG): `key_` and their lowercase hex. The id is
/// a path id ([`crate::PathId::is_valid`]) of 28 characters.
pub fn key_id(random: &[u8; KEY_ID_RANDOM_BYTES]) -> String {
    let mut id = String::with_capacity(KEY_ID_PREFIX.len() + 2 * KEY_ID_RANDOM_BYTES);
    id.push_str(KEY_ID_PREFIX);
    id.push_str(&hex::encode(random));
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PathId;

    #[test]
    fn an_id_is_the_prefix_and_the_bytes_in_hex() {
        let id = key_id(&[0, 1, 2, 3, 0xab, 0xcd, 0xef, 0x10, 0x20, 0x30, 0x40, 0xff]);
        assert_eq!(id, "key_00010203abcdef10203040ff");
        assert_eq!(id.len(), 28);
        assert!(PathId::is_valid(&id));
        assert_ne!(key_id(&[0; 12]), key_id(&[1; 12]));
    }
}
