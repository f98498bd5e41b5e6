// `sqlx::migrate!` embeds the migration files at compile time; without this, adding one changes
// no Rust source and cargo would keep a build that lacks it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
