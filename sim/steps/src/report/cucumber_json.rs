//! The Cucumber JSON sink: an array of features (`uri`, `keyword`, `name`, `tags`,
//! `elements`); per scenario a `scenario` element with its steps and, when the feature
//! has a background, a `background` element with the background's steps (same name and
//! line). Each step has `keyword`, `line`, `name` and a `result` (`status`, `duration`
//! in nanoseconds, `error_message`); steps that did not run are `skipped`. Written when
//! the run finishes.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::sink::{Event, FeatureInfo, ScenarioInfo, Sink, StepResult};
use crate::RunError;

/// Collects the run and writes Cucumber JSON to a file.
pub struct CucumberJsonSink {
    path: PathBuf,
    features: Vec<Value>,
    elements: Vec<Value>,
    steps: Vec<StepResult>,
    /// The keyword of the current feature's background.
    background: Option<String>,
}

impl CucumberJsonSink {
    /// To `path`.
    pub fn new(path: &Path) -> Self {
        CucumberJsonSink {
            path: path.to_path_buf(),
            features: Vec::new(),
            elements: Vec::new(),
            steps: Vec::new(),
            background: None,
        }
    }

    fn scenario_finished(&mut self, sc: &ScenarioInfo) {
        let steps = std::mem::take(&mut self.steps);
        let rule = sc
            .rule
            .as_ref()
            .map(|r| format!("{r} "))
            .unwrap_or_default();
        let name = format!("{rule}{}", sc.meta.scenario);
        let id = format!(
            "{}{}/{}",
            kebab(&sc.meta.feature),
            sc.rule
                .as_ref()
                .map(|r| format!("/{}", kebab(r)))
                .unwrap_or_default(),
            kebab(&sc.meta.scenario)
        );
        let line = sc.meta.line;
        let tags: Vec<Value> = sc
            .tags
            .iter()
            .map(|t| json!({"name": t, "line": line}))
            .collect();
        let (bg, own): (Vec<&StepResult>, Vec<&StepResult>) =
            steps.iter().partition(|s| s.background);
        self.elements.push(json!({
            "keyword": sc.keyword, "type": "scenario", "id": id, "line": line,
            "name": name, "tags": tags, "steps": own.into_iter().map(step).collect::<Vec<_>>(),
        }));
        if !bg.is_empty() {
            let keyword = self
                .background
                .clone()
                .unwrap_or_else(|| "Background".into());
            self.elements.push(json!({
                "keyword": keyword, "type": "background", "id": id, "line": line,
                "name": name, "tags": tags, "steps": bg.into_iter().map(step).collect::<Vec<_>>(),
            }));
        }
    }

    fn feature_finished(&mut self, f: &FeatureInfo) {
        let tags: Vec<Value> = f
            .tags
            .iter()
            .map(|t| json!({"name": t, "line": f.line}))
            .collect();
        self.features.push(json!({
            "uri": f.file, "keyword": f.keyword, "name": f.name, "tags": tags,
            "elements": std::mem::take(&mut self.elements),
        }));
    }

    fn write(&self) -> Result<(), RunError> {
        let io = |e: String| RunError::Io {
            path: self.path.display().to_string(),
            message: e,
        };
        let text = serde_json::to_vec_pretty(&self.features).map_err(|e| io(e.to_string()))?;
        std::fs::write(&self.path, text).map_err(|e| io(e.to_string()))
    }
}

/// One step as Cucumber JSON.
fn step(s: &StepResult) -> Value {
    let mut result = json!({
        "status": s.status.name(),
        "duration": s.duration.as_nanos() as u64,
    });
    if let Some(e) = &s.error {
        result["error_message"] = json!(e);
    }
    json!({"keyword": s.keyword, "line": s.line, "name": s.text, "result": result})
}

/// `Alert by SMS` → `alert-by-sms`.
fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

impl Sink for CucumberJsonSink {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), RunError> {
        match event {
            Event::StepFinished(_, s) => self.steps.push((*s).clone()),
            Event::FeatureStarted(f) => self.background.clone_from(&f.background_keyword),
            Event::ScenarioStarted(..) => self.steps.clear(),
            Event::ScenarioFinished(sc, _) => self.scenario_finished(sc),
            Event::FeatureFinished(f) => self.feature_finished(f),
            Event::RunFinished(_) => return self.write(),
            Event::RunStarted(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn kebab_case() {
        assert_eq!(kebab("Alert by SMS"), "alert-by-sms");
        assert_eq!(kebab("  a -- b "), "a-b");
    }
}
