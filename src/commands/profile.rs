//! `skserve profile`: a model's reference profile from training-like data. The model is read as
//! `skserve serve` reads it (with the `features.json` beside a file, which names its columns),
//! the CSV as `skserve predict --input` reads it, and its rows predicted through the one
//! prediction path with `health::profile::ProfileMaker` as the observer; the profile it makes
//! is written as JSON, by default beside the model (`NAME.profile.json`), where `skserve serve`
//! finds it.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::predict::{csv_input, read_input};
use super::{CommandError, read_model_file};
use crate::health::profile::ProfileMaker;
use crate::inference::{self, Context};
use crate::model::LoadLimits;
use crate::registry::{LoadedModel, ModelLoadError};
use crate::store::ModelSource;

/// Profiles `model_path` (loaded within `limits`) over the rows of `data`, in `bins` quantile
/// bins per numeric column, and writes the profile to `out` (default: beside the model); says
/// what it wrote on `say`.
pub fn profile(
    model_path: &Path,
    data: &Path,
    out: Option<&Path>,
    bins: usize,
    limits: LoadLimits,
    say: &mut impl Write,
) -> Result<(), CommandError> {
    let loaded = load_with_features(model_path, limits)?;
    let text = read_input(data)?;
    let input = csv_input(loaded.model(), &text).map_err(CommandError::Other)?;
    let maker = ProfileMaker::new(bins);
    let context = Context {
        observer: &maker,
        ..Context::unbounded()
    };
    inference::infer(&loaded, inference::Request::new(input), &context)
        .map_err(|e| CommandError::Other(e.to_string()))?;
    let profile = maker.profile(&loaded).map_err(CommandError::Other)?;
    let out = out.map_or_else(|| default_out(model_path), Path::to_path_buf);
    let mut json = serde_json::to_vec_pretty(&profile)
        .map_err(|e| CommandError::Other(format!("cannot write the profile: {e}")))?;
    json.push(b'\n');
    std::fs::write(&out, json)
        .map_err(|e| CommandError::Other(format!("cannot write {}: {e}", out.display())))?;
    let _ = writeln!(
        say,
        "wrote {}: {} rows, {} columns, for version {} of {}",
        out.display(),
        profile.rows,
        profile.columns.len(),
        profile.model.version,
        model_path.display()
    );
    Ok(())
}

/// A model file and, as `skserve serve` reads it, the `features.json` beside it: the profile
/// names the columns as the server will.
fn load_with_features(path: &Path, limits: LoadLimits) -> Result<LoadedModel, CommandError> {
    let (file, bytes) = read_model_file(path, limits)?;
    let features = match ModelSource::parse(&path.to_string_lossy()) {
        ModelSource::File(path) => path
            .parent()
            .map(|dir| dir.join("features.json"))
            .and_then(|features| std::fs::read(features).ok()),
        _ => None,
    };
    let name = path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let loaded = LoadedModel::from_bytes_within(&name, &bytes, &file, features.as_deref(), limits);
    loaded.map_err(|e| match e {
        ModelLoadError::Model { message, .. } => CommandError::Model(message),
        other => CommandError::Other(other.to_string()),
    })
}

/// Beside a model file; for a Cloud Storage object, its file name's in the current directory
/// (to be copied beside the object).
fn default_out(model: &Path) -> PathBuf {
    match ModelSource::parse(&model.to_string_lossy()) {
        ModelSource::Gcs { object, .. } => PathBuf::from(crate::store::profile::beside_object(
            object.rsplit('/').next().unwrap_or(&object),
        )),
        _ => crate::store::profile::beside(model),
    }
}
