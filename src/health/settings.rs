//! What model health is told at start: whether it is on, how many rows make a reference
//! window, and the profiles named rather than found beside their model.

use crate::store::ModelSource;

/// Model health's settings (`--health`, `--health-reference-rows`, `--profile`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSettings {
    /// `--health on`.
    pub enabled: bool,
    /// Rows of a version without a profile that become its reference (0: none).
    pub reference_rows: usize,
    /// `--profile NAME=PATH`: profiles named rather than found beside their model.
    pub profiles: Vec<(String, ModelSource)>,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            reference_rows: super::DEFAULT_REFERENCE_ROWS,
            profiles: Vec::new(),
        }
    }
}

impl HealthSettings {
    /// The profile named for model `name`, if one is.
    pub fn profile_of(&self, name: &str) -> Option<ModelSource> {
        self.profiles
            .iter()
            .find(|(model, _)| model == name)
            .map(|(_, source)| source.clone())
    }
}

/// `--profile NAME=PATH` values, each naming one of the `served` models once.
pub fn named_profiles(
    specs: &[String],
    served: &[&str],
) -> Result<Vec<(String, ModelSource)>, String> {
    let mut profiles: Vec<(String, ModelSource)> = Vec::new();
    for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some((name, path)) = spec.split_once('=').filter(|(_, p)| !p.is_empty()) else {
            return Err(format!(
                "'{spec}' is not NAME=PATH (a served model's name, then its profile)"
            ));
        };
        if !served.contains(&name) {
            return Err(format!(
                "no model named '{name}' is served (served: {})",
                served.join(", ")
            ));
        }
        if profiles.iter().any(|(n, _)| n == name) {
            return Err(format!("two profiles are named for '{name}'"));
        }
        profiles.push((name.to_owned(), ModelSource::parse(path)));
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_name_served_models_once() {
        let served = ["flights", "pickle_model"];
        let profiles = named_profiles(
            &[
                "flights=/p/f.json".into(),
                "pickle_model=gs://b/p.json".into(),
            ],
            &served,
        )
        .unwrap();
        assert_eq!(profiles[0].1, ModelSource::File("/p/f.json".into()));
        assert_eq!(
            profiles[1].1,
            ModelSource::Gcs {
                bucket: "b".into(),
                object: "p.json".into()
            }
        );
        for (specs, needle) in [
            (vec!["flights".to_owned()], "not NAME=PATH"),
            (vec!["trains=/p.json".to_owned()], "no model named 'trains'"),
            (
                vec!["flights=/a".to_owned(), "flights=/b".to_owned()],
                "two profiles",
            ),
        ] {
            let err = named_profiles(&specs, &served).unwrap_err();
            assert!(err.contains(needle), "{err}");
        }
    }
}
