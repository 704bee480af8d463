//! One line after the tests: which tiers this `cargo test` left out, and
//! the command that runs them. The tiers that need emulators or tmux are
//! built only with their feature, which `./scripts/test.sh` turns on.

fn main() {
    let tiers = [
        ("aws", cfg!(feature = "tier-aws")),
        ("lambda", cfg!(feature = "tier-lambda")),
        ("console end-to-end", cfg!(feature = "tier-e2e")),
    ];
    let left_out: Vec<&str> = tiers.iter().filter(|(_, on)| !on).map(|(name, _)| *name).collect();
    if left_out.is_empty() {
        println!("tiers: local, aws, lambda and console end-to-end all built in this run");
    } else {
        println!(
            "tiers: ran local; not run: {} (they need moto, DynamoDB Local and tmux): ./scripts/test.sh runs every tier",
            left_out.join(", ")
        );
    }
}
