//! Decides the benchmark mix `rounds` times with one peer, for instruction counting:
//!
//!     valgrind --tool=callgrind target/release/examples/mix keyscope 10
//!
//! The difference between two round counts, divided by requests, is instructions per decision
//! (setup cancels out). `scripts/bench-instructions` does exactly that. `mix json` prints the
//! world and mix as JSON instead, for the Node benchmark.

use std::hint::black_box;

use keyscope_bench::{CedarPeer, Handwritten, KeyscopePeer, Verdict, World};

fn main() {
    let mut args = std::env::args().skip(1);
    let peer = args.next().unwrap_or_else(|| "keyscope".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let world = World::align();
    if peer == "json" {
        // The world and mix for the Node benchmark (scripts/bench-npm).
        println!("{}", world.to_json());
        return;
    }
    let keyscope = KeyscopePeer::new(&world);
    let hand = Handwritten::new(&world);
    let cedar = CedarPeer::new(&hand);
    let mut allowed = 0usize;
    for _ in 0..rounds {
        for sample in &world.samples {
            let ok = match peer.as_str() {
                "keyscope" => keyscope.decide(black_box(sample)),
                "keyscope_from_header" => keyscope.decide_from_header(black_box(sample)),
                "handwritten" => matches!(hand.decide(black_box(sample)), Verdict::Allow(_)),
                "cedar_prebuilt" => cedar.decide(black_box(sample), true),
                "cedar_per_request" => cedar.decide(black_box(sample), false),
                other => {
                    eprintln!("unknown peer {other}");
                    std::process::exit(2);
                }
            };
            allowed += usize::from(ok);
        }
    }
    println!("{peer}: {allowed} allowed");
}
