//! Retrieval quality on the labelled set in `eval/`, held to the agreed floors:
//! recall@5 ≥ 0.90, and absent answers declared unknown by the built-in engine ≥ 0.80.

use docent_testkit::{Backend, TestApp};

#[tokio::test]
async fn retrieval_meets_its_floors_on_the_labelled_set() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval");
    let report = docent::knowledge::eval::run(&app.app, &dir).await.unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert!(report.entries >= 150 && report.questions >= 60, "the set is too small: {report:?}");
    assert!(report.recall_at_5 >= 0.90, "recall@5 {:.3} < 0.90; misses: {:#?}", report.recall_at_5, report.misses);
    assert!(
        report.absent_unknown >= 0.80,
        "absent→unknown {:.3} < 0.80; answered anyway: {:#?}",
        report.absent_unknown,
        report.false_answers
    );
}
