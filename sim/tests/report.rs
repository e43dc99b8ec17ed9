//! Structure of the HTML reports: a replayed fall trace's report parses as XML, its plots
//! hold their data (one path point per accelerometer sample, one marker per gesture and
//! fall, one step per link change), nothing refers to an outside resource, and the same
//! simulation gives the same bytes. A suite report has a section per scenario.

use std::path::Path;

use roxmltree::{Document, Node};
use sim::report::{replay_report, suite_report, ScenarioSection};
use sim::sched::SECOND;
use sim::simulation::{Setup, Simulation};

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/traces/fall_forward.jsonl"
);

fn replayed() -> Simulation {
    let mut sim = Simulation::new(Setup::default()).expect("simulation");
    sim.accel_log = Some(Vec::new());
    sim.start_replay(Path::new(TRACE)).expect("trace");
    sim.advance(60 * SECOND);
    sim
}

/// The report as XML (its `<!DOCTYPE html>` is a DTD to roxmltree).
fn parse(html: &str) -> Result<Document<'_>, roxmltree::Error> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    Document::parse_with_options(html, opt)
}

fn has_class(n: &Node, c: &str) -> bool {
    n.attribute("class")
        .is_some_and(|v| v.split_whitespace().any(|x| x == c))
}

fn svg_of<'a, 'i>(doc: &'a Document<'i>, class: &str) -> Node<'a, 'i> {
    let found: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg") && has_class(n, class))
        .collect();
    assert_eq!(found.len(), 1, "one svg.{class}");
    found[0]
}

fn in_class<'a, 'i>(root: Node<'a, 'i>, tag: &str, class: &str) -> Vec<Node<'a, 'i>> {
    root.descendants()
        .filter(|n| n.has_tag_name(tag) && has_class(n, class))
        .collect()
}

/// Number of points of a path `d` written as `M x,y L x,y …`.
fn path_points(d: &str) -> usize {
    d.matches(['M', 'L']).count()
}

/// No attribute (href, src, style...) and no style sheet names an outside resource.
fn assert_self_contained(doc: &Document, html: &str) {
    for n in doc.descendants() {
        for a in n.attributes() {
            let v = a.value().to_ascii_lowercase();
            assert!(
                !v.contains("http://") && !v.contains("https://") && !v.contains("url("),
                "attribute {}={:?} refers to a resource",
                a.name(),
                a.value()
            );
            if a.name() == "href" {
                assert!(a.value().starts_with('#'), "only in-page links");
            }
        }
        assert!(
            !matches!(
                n.tag_name().name(),
                "script" | "link" | "img" | "iframe" | "object" | "embed"
            ),
            "no {} element",
            n.tag_name().name()
        );
        if n.has_tag_name("style") {
            let css = n.text().unwrap_or_default();
            assert!(!css.contains("url(") && !css.contains("@import"));
        }
    }
    // Outside the timeline table, no text carries a link either.
    let table_start = html
        .find("<table class=\"timeline\"")
        .expect("timeline table");
    let head = &html[..table_start];
    assert!(!head.contains("http://") && !head.contains("https://"));
}

#[test]
fn replay_report_holds_the_data_and_is_self_contained() {
    let sim = replayed();
    let html = replay_report("fall_forward <replay>", &sim);
    let doc = parse(&html).expect("the report is well-formed XML");
    assert!(html.contains("fall_forward &lt;replay&gt;"));
    assert!(html.contains(&format!("<dd>{}</dd>", sim.seed())));

    // Accelerometer: one point per sample (far fewer than the decimation threshold).
    let samples = sim.accel_log.as_ref().expect("accel log");
    assert!(!samples.is_empty() && samples.len() <= sim::report::svg::DECIMATE_ABOVE);
    let accel = svg_of(&doc, "plot-accel");
    let path = in_class(accel, "path", "accel-magnitude");
    assert_eq!(path.len(), 1);
    let d = path[0].attribute("d").expect("d");
    assert_eq!(path_points(d), samples.len());
    assert_eq!(
        path[0].attribute("data-points"),
        Some(samples.len().to_string().as_str())
    );

    // Gesture and fall markers: one element each, dated.
    let markers = &sim.series.markers;
    let n_fall = markers.iter().filter(|m| m.1.name() == "fall").count();
    let n_gesture = markers.iter().filter(|m| m.1.name() == "gesture").count();
    assert!(n_fall >= 1, "the forward fall is detected: {markers:?}");
    let falls = in_class(accel, "g", "fall");
    assert_eq!(falls.len(), n_fall);
    assert_eq!(in_class(accel, "g", "gesture").len(), n_gesture);
    let fall_t: Vec<String> = markers
        .iter()
        .filter(|m| m.1.name() == "fall")
        .map(|m| m.0.to_string())
        .collect();
    for (g, t) in falls.iter().zip(&fall_t) {
        assert_eq!(g.attribute("data-t-us"), Some(t.as_str()));
        assert!(g.children().any(|c| c.has_tag_name("title")));
    }

    // Link: one vertical step per change of state.
    let mut changes = 0;
    let mut cur = false;
    for &(_, up) in &sim.series.link {
        if up != cur {
            changes += 1;
            cur = up;
        }
    }
    assert!(changes >= 1, "the button connected");
    let link = svg_of(&doc, "plot-link");
    let lp = in_class(link, "path", "link-state");
    assert_eq!(lp.len(), 1);
    assert_eq!(lp[0].attribute("d").unwrap().matches('V').count(), changes);
    assert_eq!(in_class(link, "g", "link-change").len(), changes);

    // Battery: one point per report.
    let battery = svg_of(&doc, "plot-battery");
    assert_eq!(
        in_class(battery, "g", "battery-report").len(),
        sim.series.battery.len()
    );

    // Phone actions: one marker per action marker.
    let actions = svg_of(&doc, "plot-actions");
    for kind in sim::report::svg::ACTION_KINDS {
        let n = markers.iter().filter(|m| m.1.name() == kind).count();
        assert_eq!(in_class(actions, "g", kind).len(), n, "{kind}");
    }
    assert!(
        markers.iter().any(|m| m.1.name() == "sms"),
        "a fall alert sends SMS"
    );

    // Timeline table: every entry, escaped.
    let rows: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("data-t-us").is_some())
        .collect();
    assert_eq!(rows.len(), sim.timeline.entries.len());
    for (row, e) in rows.iter().zip(&sim.timeline.entries) {
        let cells: Vec<_> = row.children().filter(|c| c.has_tag_name("td")).collect();
        assert_eq!(cells[1].text(), Some(e.layer.name()));
        assert_eq!(cells[2].text().unwrap_or_default(), e.text);
    }

    assert_self_contained(&doc, &html);

    // Deterministic: the same run renders the same bytes.
    assert_eq!(html, replay_report("fall_forward <replay>", &sim));
    assert_eq!(html, replay_report("fall_forward <replay>", &replayed()));
}

#[test]
fn long_accelerometer_logs_are_decimated_per_pixel_column() {
    let mut sim = Simulation::new(Setup::default()).expect("simulation");
    let n = 50_000u64;
    let log: Vec<(u64, [i16; 3])> = (0..n)
        .map(|i| {
            (
                i * 10_000,
                [0, -1000 + (i % 7) as i16 * 300, (i % 3) as i16],
            )
        })
        .collect();
    sim.accel_log = Some(log);
    sim.advance(n * 10_000);
    let html = replay_report("long", &sim);
    let doc = parse(&html).expect("xml");
    let accel = svg_of(&doc, "plot-accel");
    let path = in_class(accel, "path", "accel-magnitude");
    let points = path_points(path[0].attribute("d").unwrap());
    assert!(points <= 2 * sim::report::svg::PLOT_W as usize);
    assert!(points > sim::report::svg::PLOT_W as usize);
    assert_eq!(path[0].attribute("data-samples"), Some("50000"));
    assert_eq!(
        path[0].attribute("data-points"),
        Some(points.to_string().as_str())
    );
    assert!(html.contains("decimated to"));
    assert_eq!(html, replay_report("long", &sim));
}

#[test]
fn suite_report_has_a_section_per_scenario() {
    let sim = replayed();
    let meta = sim::steps::world::ScenarioMeta {
        feature: "Falls".into(),
        scenario: "A forward fall alerts the contacts".into(),
        example_row: String::new(),
        file: "features/falls.feature".into(),
        line: 12,
        run_seed: 7,
    };
    let steps = vec![
        (
            "Given the wearer wears the button".to_string(),
            "passed".to_string(),
        ),
        (
            "When the trace \"x\" is replayed".to_string(),
            "failed".to_string(),
        ),
        ("Then 1 SMS is sent".to_string(), "skipped".to_string()),
    ];
    let failing = ScenarioSection::from_sim(
        &meta,
        false,
        Some("expected <1> SMS & got 2".into()),
        steps,
        Some(&sim),
    );
    let empty = ScenarioSection {
        feature: "Setup".into(),
        scenario: "Nothing runs".into(),
        file: "features/setup.feature".into(),
        line: 3,
        seed: 7,
        passed: true,
        ..Default::default()
    };
    let html = suite_report("suite", &[failing.clone(), empty]);
    let sections_again = |again: ScenarioSection| {
        vec![
            again,
            ScenarioSection {
                feature: "Setup".into(),
                scenario: "Nothing runs".into(),
                file: "features/setup.feature".into(),
                line: 3,
                seed: 7,
                passed: true,
                ..Default::default()
            },
        ]
    };
    let doc = parse(&html).expect("xml");
    let sections: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("section") && has_class(n, "scenario"))
        .collect();
    assert_eq!(sections.len(), 2);
    assert!(has_class(&sections[0], "failed") && has_class(&sections[1], "passed"));
    assert!(html.contains("sim run features/falls.feature:12 --seed 7"));
    assert!(html.contains("expected &lt;1&gt; SMS &amp; got 2"));
    let events = in_class(sections[0], "svg", "plot-events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        in_class(events[0], "g", "marker").len(),
        sim.series.markers.len()
    );
    assert_eq!(in_class(sections[0], "li", "failed").len(), 1);
    assert_eq!(in_class(sections[0], "li", "skipped").len(), 1);
    assert_self_contained(&doc, &html);
    assert_eq!(failing.scenario_seed, Some(sim.seed()));
    let again = ScenarioSection::from_sim(
        &meta,
        false,
        Some("expected <1> SMS & got 2".into()),
        failing.steps.clone(),
        Some(&replayed()),
    );
    assert_eq!(again, failing);
    assert_eq!(html, suite_report("suite", &sections_again(again)));
}
