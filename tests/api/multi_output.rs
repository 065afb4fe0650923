//! Classifiers of several outputs (a forest fitted on a label matrix) through every protocol,
//! against scikit-learn's answers: V2 JSON and binary, gRPC, V1 and the metadata give each
//! row's label for every output and the outputs' probabilities side by side; the seed's form
//! and explanations, which hold one answer per row, refuse them with a 422 that says why.

use serde_json::{Value, json};
use skserve::config::ServeSettings;

use crate::helpers::{
    BinaryAnswer, assert_close, assert_error_contains, binary_request, f64s, grpc_client, json,
    matrix_tree, raw_infer, spawn_app_with_grpc, spawn_app_with_model, strings,
};

/// Two outputs of string labels: two classes and three.
const LABELS: &str = "random_forest_two_labels";
/// Two outputs of integer labels: four classes and two.
const CLASSES: &str = "random_forest_two_classes";

/// scikit-learn's `predict`, flattened row-major, and its `predict_proba` side by side.
fn answers(expected: &Value) -> (Vec<Value>, Vec<f64>) {
    let answers = &expected["answers"];
    let labels = answers["predict"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().clone())
        .collect();
    let proba = answers["predict_proba"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    (labels, proba)
}

fn assert_all_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, &format!("{what}[{i}]"));
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v2_json_answers_every_output_of_every_row() {
    for (id, datatype, n_classes) in [(LABELS, "BYTES", 5), (CLASSES, "INT64", 6)] {
        let (model, rows, expected) = matrix_tree(id);
        let (labels, proba) = answers(&expected);
        let app = spawn_app_with_model(&model).await;
        let name = model.file_stem().unwrap().to_str().unwrap().to_owned();
        let n = rows.len();
        let request = json!({
            "inputs": [{"name": "x", "shape": [n, rows[0].len()], "datatype": "FP64",
                        "data": rows.iter().flatten().collect::<Vec<_>>()}],
            "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        });

        let (status, body) = json(app.infer(&name, &request).await).await;

        assert_eq!(status, 200, "{body}");
        let predict = &body["outputs"][0];
        assert_eq!(predict["datatype"], datatype, "{id}");
        assert_eq!(predict["shape"], json!([n, 2]), "{id}");
        assert_eq!(predict["data"].as_array().unwrap(), &labels, "{id}");
        let p = &body["outputs"][1];
        assert_eq!(p["shape"], json!([n, n_classes]), "{id}");
        let got: Vec<f64> = p["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_all_close(&got, &proba, id);

        let (status, metadata) = json(app.model_metadata(&name).await).await;
        assert_eq!(status, 200);
        assert_eq!(
            metadata["parameters"]["classes"], expected["classes"],
            "{id}"
        );
        assert_eq!(
            metadata["outputs"],
            json!([
                {"name": "predict", "datatype": datatype, "shape": [-1, 2]},
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, n_classes]},
            ]),
            "{id}"
        );
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn binary_tensors_and_grpc_carry_the_same_answers() {
    let (model, rows, expected) = matrix_tree(LABELS);
    let (labels, proba) = answers(&expected);
    let labels: Vec<String> = labels
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    let app = spawn_app_with_grpc(ServeSettings {
        model: skserve::store::ModelSource::File(model.clone()),
        model_name: LABELS.into(),
        ..ServeSettings::default()
    })
    .await;

    let (body, header) = binary_request(
        &rows,
        "FP64",
        json!([{"name": "predict"}, {"name": "predict_proba"}]),
    );
    let answer = BinaryAnswer::of(app.infer_binary(LABELS, body, Some(header)).await).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["outputs"][0]["shape"], json!([rows.len(), 2]));
    assert_eq!(strings(answer.section("predict")), labels);
    assert_all_close(&f64s(answer.section("predict_proba")), &proba, "binary");

    let mut client = grpc_client(&app).await;
    let request = raw_infer(LABELS, &rows, "FP64", &["predict", "predict_proba"]);
    let reply = client.model_infer(request).await.unwrap().into_inner();
    assert_eq!(reply.outputs[0].datatype, "BYTES");
    assert_eq!(reply.outputs[0].shape, [rows.len() as i64, 2]);
    assert_eq!(strings(&reply.raw_output_contents[0]), labels);
    assert_all_close(&f64s(&reply.raw_output_contents[1]), &proba, "gRPC");
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn v1_answers_a_list_of_labels_per_row() {
    let (model, rows, expected) = matrix_tree(CLASSES);
    let (_, proba) = answers(&expected);
    let app = spawn_app_with_model(&model).await;
    let name = model.file_stem().unwrap().to_str().unwrap().to_owned();

    let (status, body) = json(
        app.v1_predict(&name, "?proba=true", &json!({ "instances": rows }))
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["predictions"], expected["answers"]["predict"]);
    assert_eq!(body["classes"], expected["classes"]);
    let got: Vec<f64> = body["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    assert_all_close(&got, &proba, "V1");
    // Integers stay integers.
    assert!(body["predictions"][0][0].is_i64(), "{body}");
}

#[tokio::test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
async fn one_answer_per_row_is_refused_with_a_reason() {
    let (model, rows, _) = matrix_tree(LABELS);
    let app = spawn_app_with_model(&model).await;
    let name = model.file_stem().unwrap().to_str().unwrap().to_owned();
    let x: Vec<String> = rows[0].iter().map(f64::to_string).collect();

    let seed = app.post_seed_form(&format!("x=[{}]", x.join(","))).await;
    let status = seed.status().as_u16();
    let text = seed.text().await.unwrap();
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("several values per row"), "{text}");

    let (status, body) = json(
        app.v1_predict(&name, "?explain=true", &json!({ "instances": [rows[0]] }))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_error_contains(&body, "cannot be explained");
}
