//! Analytics at scale: conversations seeded in bulk by `docent dev seed-conversations`, then the
//! owner's list, stats and export endpoints timed. Until that command exists in the release
//! binary, this part says so and measures nothing.

use crate::Opts;
use crate::report::Section;
use crate::stack::Bins;

pub async fn run(bins: &Bins, _opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let mut section = Section::new("analytics");
    let probe =
        tokio::process::Command::new(&bins.docent).args(["dev", "seed-conversations", "--help"]).output().await?;
    if !probe.status.success() {
        section.note(
            "not measured: it depends on `docent dev seed-conversations SLUG --count N`, which this docent binary \
             does not have yet",
        );
        return Ok(vec![section]);
    }
    section.note("not measured yet: `docent dev seed-conversations` exists; the timed list/stats/export run is to do");
    Ok(vec![section])
}
