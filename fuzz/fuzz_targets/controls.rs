//! A key's controls (SPEC "Key controls") over hostile input: CIDR blocks and client addresses
//! as text, the controls and a whole key record as JSON. Nothing panics; what parses writes back
//! to what it parsed from; a block holds its own network address; a list admits an address
//! exactly when one of its blocks holds it.
#![no_main]

use std::net::IpAddr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use policy_core::{client_address, AllowedCidrs, Cidr, Controls, KeyRecord};

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// A block and an address, as text.
    Block(&'a str, &'a str),
    /// An address given as 16 bytes (IPv6) or 4 (IPv4), and blocks as text.
    Address { v6: bool, bytes: [u8; 16], blocks: Vec<&'a str> },
    /// The controls' JSON and a record's JSON.
    Json(&'a [u8]),
}

fn check_block(text: &str) -> Option<Cidr> {
    let block: Cidr = text.parse().ok()?;
    let again: Cidr = block.to_string().parse().expect("a block's text parses back");
    assert_eq!(again, block);
    assert!(block.contains(block.network()), "a block holds its network address");
    Some(block)
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Block(block, address) => {
        let parsed = check_block(block);
        if let (Some(block), Some(address)) = (parsed, client_address(address)) {
            let list = AllowedCidrs::new(vec![block]).expect("one block is a list");
            assert_eq!(list.admits(Some(address)), block.contains(address));
        }
    }
    Input::Address { v6, bytes, blocks } => {
        let address = if v6 {
            IpAddr::from(bytes)
        } else {
            IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]])
        };
        assert_eq!(client_address(&address.to_string()), Some(address));
        let parsed: Vec<Cidr> = blocks.iter().filter_map(|b| check_block(b)).collect();
        if let Ok(list) = AllowedCidrs::new(parsed.clone()) {
            assert_eq!(list.admits(Some(address)), parsed.iter().any(|b| b.contains(address)));
            assert!(!list.admits(None), "an unknown address is refused");
        }
    }
    Input::Json(bytes) => {
        if let Ok(controls) = serde_json::from_slice::<Controls>(bytes) {
            let text = serde_json::to_string(&controls).expect("controls serialize");
            assert_eq!(serde_json::from_str::<Controls>(&text).expect("and read back"), controls);
        }
        if let Ok(record) = serde_json::from_slice::<KeyRecord>(bytes) {
            let text = serde_json::to_string(&record).expect("a record serializes");
            let back: KeyRecord = serde_json::from_str(&text).expect("with both project fields, and reads back");
            assert_eq!(back, record);
            assert!(record.scoped_project_ids.len() <= policy_core::MAX_PROJECTS);
        }
    }
});
