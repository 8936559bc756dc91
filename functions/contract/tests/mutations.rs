//! The fuzz entry point on stable Rust: realistic inputs (the fixtures and known-tricky strings)
//! and tens of thousands of deterministic mutations of them (bit flips, truncations, byte
//! insertions, splices). None may panic or break an invariant.

use mgrid_contract::fuzz::exercise;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for provider in ["stripe", "paypal"] {
        for entry in std::fs::read_dir(format!("{dir}/{provider}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") && !path.ends_with("test-vectors.json")
            {
                let body = std::fs::read(&path).unwrap();
                if body.len() < 16 * 1024 {
                    let selector = if provider == "stripe" { 0 } else { 1 };
                    seeds.push([vec![selector], body].concat());
                }
            }
        }
    }
    for (selector, text) in [
        (
            2,
            "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b",
        ),
        (3, "webhooks/stripe/2026/11/29/03/evt_1.json"),
        (
            4,
            r#"{"version":1,"current":{"id":"k1","secret":"s","createdAt":1},"previous":{"id":"k0","secret":"t","createdAt":0,"expiresAt":9}}"#,
        ),
        (5, "92233720368547758.07"),
        (5, "2026-11-29T03:34:10.123+01:00"),
    ] {
        seeds.push([vec![selector], text.as_bytes().to_vec()].concat());
    }
    seeds
}

#[test]
fn mutated_untrusted_input_never_panics() {
    let seeds = seeds();
    for seed in &seeds {
        exercise(seed);
    }
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..40_000 {
        let mut input = seeds[random.below(seeds.len())].clone();
        for _ in 0..1 + random.below(4) {
            let at = random.below(input.len());
            match random.below(5) {
                0 => input[at] ^= 1 << random.below(8),
                1 => input.truncate(at.max(1)),
                2 => input.insert(at.max(1), b"\"{}[],:\\0-.9eT"[random.below(14)]),
                3 => {
                    let other = &seeds[random.below(seeds.len())];
                    let from = random.below(other.len());
                    input.splice(
                        at.max(1)..at.max(1),
                        other[from..other.len().min(from + 32)].iter().copied(),
                    );
                }
                _ => input[0] = random.below(6) as u8,
            }
        }
        exercise(&input);
    }
}
