//! A key's address allow-list: 1 to [`MAX_CIDRS`] IPv4 or IPv6 CIDR blocks. A request from an
//! address in none of them, or from an unknown address, is refused (`403 forbidden`).
//!
//! An IPv4 address and its IPv4-mapped IPv6 form (`::ffff:192.0.2.1`) are the same client: each
//! matches a block written in the other family's notation. A block written with host bits set
//! (`192.0.2.7/24`) means its network (`192.0.2.0/24`), and is stored and shown that way.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A key's allow-list holds at most this many blocks.
pub const MAX_CIDRS: usize = 20;

/// Why an allow-list, or one block of it, is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidrError {
    /// Not `address/length` (or a bare address) of either family; holds the text.
    Malformed(String),
    /// No block: a list, when given, holds at least one.
    Empty,
    /// More than [`MAX_CIDRS`] blocks.
    TooMany,
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidrError::Malformed(text) => {
                write!(
                    f,
                    "{text:?} is not an IPv4 or IPv6 CIDR block (e.g. 203.0.113.0/24)"
                )
            }
            CidrError::Empty => f.write_str("an address allow-list holds at least one block"),
            CidrError::TooMany => write!(f, "an address allow-list holds at most {MAX_CIDRS} blocks"),
        }
    }
}

impl core::error::Error for CidrError {}

/// One block: a network address with its host bits cleared and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    length: u8,
}

fn mask_v4(address: Ipv4Addr, length: u8) -> u32 {
    let bits = u32::from(address);
    if length == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - u32::from(length)))
    }
}

fn mask_v6(address: Ipv6Addr, length: u8) -> u128 {
    let bits = u128::from(address);
    if length == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(length)))
    }
}

impl Cidr {
    /// The block's network address.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length (0–32 for IPv4, 0–128 for IPv6).
    pub fn length(&self) -> u8 {
        self.length
    }

    /// Whether `address` is in the block (an IPv4 address and its IPv4-mapped IPv6 form alike).
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask_v4(a, self.length) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => mask_v6(a, self.length) == u128::from(net),
            (IpAddr::V6(net), IpAddr::V4(a)) => mask_v6(a.to_ipv6_mapped(), self.length) == u128::from(net),
            (IpAddr::V4(net), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|a| mask_v4(a, self.length) == u32::from(net)),
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `address/length`, or a bare address (a block of one address).
    fn from_str(text: &str) -> Result<Cidr, CidrError> {
        let malformed = || CidrError::Malformed(String::from(text));
        let (address, length) = match text.split_once('/') {
            Some((address, length)) => (address, Some(length)),
            None => (text, None),
        };
        let address = IpAddr::from_str(address).map_err(|_| malformed())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let length = match length {
            None => max,
            Some(digits)
                if !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                digits.parse::<u8>().map_err(|_| malformed())?
            }
            Some(_) => return Err(malformed()),
        };
        if length > max {
            return Err(malformed());
        }
        let network = match address {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(mask_v4(a, length))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(mask_v6(a, length))),
        };
        Ok(Cidr { network, length })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.length)
    }
}

/// A key's allow-list: 1 to [`MAX_CIDRS`] blocks, in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AllowedCidrs(Vec<Cidr>);

impl AllowedCidrs {
    /// These blocks; refused when there are none or more than [`MAX_CIDRS`].
    pub fn new(blocks: Vec<Cidr>) -> Result<AllowedCidrs, CidrError> {
        match blocks.len() {
            0 => Err(CidrError::Empty),
            n if n > MAX_CIDRS => Err(CidrError::TooMany),
            _ => Ok(AllowedCidrs(blocks)),
        }
    }

    /// Parses each text as a block (the first malformed one is the error).
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<AllowedCidrs, CidrError> {
        let blocks = texts
            .iter()
            .map(|t| t.as_ref().parse())
            .collect::<Result<Vec<Cidr>, CidrError>>()?;
        AllowedCidrs::new(blocks)
    }

    /// The blocks.
    pub fn blocks(&self) -> &[Cidr] {
        &self.0
    }

    /// Whether a request from `client` may use the key: the address is known and in a block.
    pub fn admits(&self, client: Option<IpAddr>) -> bool {
        client.is_some_and(|address| self.0.iter().any(|block| block.contains(address)))
    }
}

/// The client address as a request carries it (`CF-Connecting-IP`, a framework's `req.ip`):
/// an IPv4 or IPv6 address, surrounding whitespace ignored; anything else is an unknown address.
pub fn client_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    IpAddr::from_str(text).ok()
}

impl Serialize for AllowedCidrs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|block| alloc::format!("{block}")))
    }
}

impl<'de> Deserialize<'de> for AllowedCidrs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AllowedCidrs, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        AllowedCidrs::parse(&texts).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn ip(text: &str) -> Option<IpAddr> {
        client_address(text)
    }

    #[test]
    fn blocks_hold_their_addresses_in_either_family() {
        let list = AllowedCidrs::parse(&["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]).unwrap();
        assert!(list.admits(ip("203.0.113.255")));
        assert!(!list.admits(ip("203.0.114.0")));
        assert!(list.admits(ip("2001:db8:ffff::1")));
        assert!(!list.admits(ip("2001:db9::1")));
        assert!(list.admits(ip("198.51.100.7")));
        assert!(!list.admits(ip("198.51.100.8")));
        assert!(
            list.admits(ip("::ffff:203.0.113.9")),
            "an IPv4-mapped address is its IPv4 address"
        );
        assert!(!list.admits(None), "an unknown address is refused");
        assert!(!list.admits(ip("not an address")));
        let mapped = AllowedCidrs::parse(&["::ffff:192.0.2.0/120"]).unwrap();
        assert!(mapped.admits(ip("192.0.2.1")));
        let everything = AllowedCidrs::parse(&["0.0.0.0/0", "::/0"]).unwrap();
        assert!(everything.admits(ip("8.8.8.8")) && everything.admits(ip("::1")));
    }

    #[test]
    fn host_bits_are_cleared_and_bad_blocks_refused() {
        assert_eq!(
            "192.0.2.7/24".parse::<Cidr>().unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            "2001:db8::1/128".parse::<Cidr>().unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!("10.1.2.3".parse::<Cidr>().unwrap().to_string(), "10.1.2.3/32");
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0/8",
            "x/8",
            "",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert_eq!(AllowedCidrs::parse::<&str>(&[]), Err(CidrError::Empty));
        let many: Vec<String> = (0..21).map(|i| alloc::format!("10.0.{i}.0/24")).collect();
        assert_eq!(AllowedCidrs::parse(&many), Err(CidrError::TooMany));
        assert_eq!(ip(" [::1] "), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }
}
