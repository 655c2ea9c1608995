//! Decides the benchmark mix `rounds` times with one peer, for instruction counting:
//!
//!     valgrind --tool=callgrind target/release/examples/mix keyscope 10 [standard|inherit|explicit]
//!
//! The difference between two round counts, divided by requests, is instructions per decision
//! (setup cancels out). `scripts/bench-instructions` does exactly that. The third argument picks
//! the keys' explicit grants ([`keyscope_bench::GrantMix`], `standard` by default). `mix json`
//! prints the world and mix as JSON instead, for the Node benchmark.

use std::hint::black_box;

use keyscope_bench::{CedarPeer, GrantMix, KeyscopePeer, Lean, Naive, Verdict, World};

fn main() {
    let mut args = std::env::args().skip(1);
    let peer = args.next().unwrap_or_else(|| "keyscope".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let mix = match args.next().as_deref() {
        None | Some("standard") => GrantMix::Standard,
        Some("inherit") => GrantMix::Inherit,
        Some("explicit") => GrantMix::Explicit,
        Some(other) => {
            eprintln!("unknown grant mix {other} (standard, inherit, explicit)");
            std::process::exit(2);
        }
    };
    let world = World::with_grants(mix);
    if peer == "json" {
        // The world and mix for the Node benchmark (scripts/bench-npm).
        println!("{}", world.to_json());
        return;
    }
    let keyscope = KeyscopePeer::new(&world);
    let lean = Lean::new(&world);
    let naive = Naive::new(&world);
    let cedar = CedarPeer::new(&world);
    let mut allowed = 0usize;
    for _ in 0..rounds {
        for sample in &world.samples {
            let ok = match peer.as_str() {
                "keyscope" => keyscope.decide(black_box(sample)),
                "keyscope_raw_record" => keyscope.decide_raw(black_box(sample)),
                "keyscope_from_header" => keyscope.decide_from_header(black_box(sample)),
                "lean" => lean.decide(&world, black_box(sample)).allowed(),
                "naive" => matches!(naive.decide(black_box(sample)), Verdict::Allow(_)),
                "cedar_prebuilt" => cedar.decide(&world, black_box(sample), true),
                "cedar_per_request" => cedar.decide(&world, black_box(sample), false),
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
