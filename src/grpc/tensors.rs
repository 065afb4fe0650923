//! Between `ModelInferRequest`/`ModelInferResponse` and `crate::inference`: each input's data
//! from its raw contents (`raw_input_contents`, what tritonclient sends) or from the typed field
//! of its datatype (`contents.fp64_contents`, …), and the outputs back the same way the inputs
//! came: raw for raw, typed for typed.

use std::borrow::Cow;
use std::collections::HashMap;

use prost::bytes::Bytes;
use tonic::Status;

use super::generated::inference::infer_parameter::ParameterChoice;
use super::generated::inference::model_infer_response::InferOutputTensor;
use super::generated::inference::{
    InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse,
};
use crate::inference::{self, Datatype, Inference, InputTensor, OutputData, TensorData};
use crate::model::Label;

/// What a request asks beyond its tensors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asked {
    /// The inputs came raw, so the outputs go back raw.
    pub raw: bool,
}

/// The inference request in `message`; typed contents are moved out of it, raw ones borrowed.
pub fn request_of(
    message: &mut ModelInferRequest,
) -> Result<(inference::Request<'_>, Asked), Status> {
    let ModelInferRequest {
        parameters,
        inputs,
        outputs,
        raw_input_contents,
        ..
    } = message;
    let raw = !raw_input_contents.is_empty();
    if raw && raw_input_contents.len() != inputs.len() {
        return Err(Status::invalid_argument(format!(
            "{} raw_input_contents for {} inputs: send one per input, in order",
            raw_input_contents.len(),
            inputs.len()
        )));
    }
    let mut tensors = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter_mut().enumerate() {
        let name = input.name.as_str();
        let datatype = Datatype::parse(name, &input.datatype)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let contents = input.contents.as_mut().filter(|c| !is_empty(c));
        let data = match (raw, contents) {
            (true, Some(_)) => {
                return Err(Status::invalid_argument(format!(
                    "input '{name}' has typed contents although the request has \
                     raw_input_contents; send one or the other"
                )));
            }
            (true, None) => TensorData::Raw(&raw_input_contents[i]),
            (false, Some(contents)) => typed(name, datatype, contents)?,
            (false, None) => {
                return Err(Status::invalid_argument(format!(
                    "input '{name}' has no contents (and the request no raw_input_contents)"
                )));
            }
        };
        tensors.push(InputTensor {
            name: Cow::Borrowed(name),
            datatype,
            shape: std::mem::take(&mut input.shape),
            data,
        });
    }
    let request = inference::Request {
        input: inference::Input::Tensors(tensors),
        outputs: outputs
            .iter()
            .map(|o| Cow::Borrowed(o.name.as_str()))
            .collect(),
        predict_proba: flag(parameters, "predict_proba")?,
        explain: flag(parameters, "explain")?,
        score: false,
    };
    let asked = Asked { raw };
    Ok((request, asked))
}

fn is_empty(c: &InferTensorContents) -> bool {
    c.bool_contents.is_empty()
        && c.int_contents.is_empty()
        && c.int64_contents.is_empty()
        && c.uint_contents.is_empty()
        && c.uint64_contents.is_empty()
        && c.fp32_contents.is_empty()
        && c.fp64_contents.is_empty()
        && c.bytes_contents.is_empty()
}

/// The elements of the typed field `datatype` uses; any other field filled is a mistake.
fn typed<'a>(
    name: &str,
    datatype: Datatype,
    contents: &'a mut InferTensorContents,
) -> Result<TensorData<'a>, Status> {
    let field = match datatype {
        Datatype::Bool => "bool_contents",
        Datatype::Int8 | Datatype::Int16 | Datatype::Int32 => "int_contents",
        Datatype::Int64 => "int64_contents",
        Datatype::Uint8 | Datatype::Uint16 | Datatype::Uint32 => "uint_contents",
        Datatype::Uint64 => "uint64_contents",
        Datatype::Fp32 => "fp32_contents",
        Datatype::Fp64 => "fp64_contents",
        Datatype::Bytes => "bytes_contents",
        Datatype::Fp16 => {
            return Err(Status::invalid_argument(format!(
                "input '{name}' is FP16, which has no typed contents: send it in \
                 raw_input_contents"
            )));
        }
    };
    let filled = [
        ("bool_contents", contents.bool_contents.len()),
        ("int_contents", contents.int_contents.len()),
        ("int64_contents", contents.int64_contents.len()),
        ("uint_contents", contents.uint_contents.len()),
        ("uint64_contents", contents.uint64_contents.len()),
        ("fp32_contents", contents.fp32_contents.len()),
        ("fp64_contents", contents.fp64_contents.len()),
        ("bytes_contents", contents.bytes_contents.len()),
    ];
    if let Some((other, _)) = filled.iter().find(|&&(f, n)| f != field && n > 0) {
        return Err(Status::invalid_argument(format!(
            "input '{name}' is {}, whose elements go in contents.{field}, but they are in \
             contents.{other}",
            datatype.name()
        )));
    }
    fn numbers<T: Copy>(values: &[T], to_f64: impl Fn(T) -> f64) -> TensorData<'static> {
        TensorData::Numbers(values.iter().map(|&v| to_f64(v)).collect())
    }
    Ok(match datatype {
        Datatype::Fp64 => TensorData::Numbers(std::mem::take(&mut contents.fp64_contents)),
        Datatype::Fp32 => numbers(&contents.fp32_contents, f64::from),
        Datatype::Bool => numbers(&contents.bool_contents, |b| f64::from(u8::from(b))),
        Datatype::Int8 | Datatype::Int16 | Datatype::Int32 => {
            numbers(&contents.int_contents, f64::from)
        }
        Datatype::Int64 => numbers(&contents.int64_contents, |v| v as f64),
        Datatype::Uint8 | Datatype::Uint16 | Datatype::Uint32 => {
            numbers(&contents.uint_contents, f64::from)
        }
        Datatype::Uint64 => numbers(&contents.uint64_contents, |v| v as f64),
        Datatype::Bytes => TensorData::Strings(
            contents
                .bytes_contents
                .iter()
                .map(|b| Cow::Borrowed(&b[..]))
                .collect(),
        ),
        Datatype::Fp16 => unreachable!("refused above"),
    })
}

/// A boolean request parameter: `bool_param`, or `string_param` "true"/"false".
fn flag(parameters: &HashMap<String, InferParameter>, name: &str) -> Result<bool, Status> {
    match parameters
        .get(name)
        .and_then(|p| p.parameter_choice.as_ref())
    {
        None => Ok(false),
        Some(ParameterChoice::BoolParam(b)) => Ok(*b),
        Some(ParameterChoice::StringParam(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(ParameterChoice::StringParam(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(Status::invalid_argument(format!(
            "parameter '{name}' must be a bool_param (or string_param \"true\"/\"false\"), \
             not {other:?}"
        ))),
    }
}

/// The response to a request `asked` so: outputs raw when the inputs were, else typed.
pub fn response_of(
    model_name: &str,
    model_version: &str,
    id: String,
    inference: &Inference<'_>,
    asked: Asked,
    explanations: Option<String>,
) -> ModelInferResponse {
    let mut outputs = Vec::new();
    let mut raw_output_contents = Vec::new();
    for output in inference.outputs() {
        let contents = if asked.raw {
            let mut raw = Vec::new();
            output.data.write_raw(&mut raw);
            raw_output_contents.push(Bytes::from(raw));
            None
        } else {
            Some(typed_contents(output.data))
        };
        outputs.push(InferOutputTensor {
            name: output.name.to_owned(),
            datatype: output.datatype.name().to_owned(),
            shape: output.shape.iter().map(|&d| d as i64).collect(),
            parameters: HashMap::new(),
            contents,
        });
    }
    let parameters = explanations
        .map(|json| {
            let value = InferParameter {
                parameter_choice: Some(ParameterChoice::StringParam(json)),
            };
            HashMap::from([("explanations".to_owned(), value)])
        })
        .unwrap_or_default();
    ModelInferResponse {
        model_name: model_name.to_owned(),
        model_version: model_version.to_owned(),
        id,
        parameters,
        outputs,
        raw_output_contents,
    }
}

fn typed_contents(data: OutputData<'_>) -> InferTensorContents {
    let mut contents = InferTensorContents::default();
    match data {
        OutputData::Floats(values) => contents.fp64_contents = values.to_vec(),
        OutputData::Labels { classes, indices } => {
            let text = inference::label_datatype(classes) == Datatype::Bytes;
            for label in inference::labels(classes, indices) {
                match label {
                    _ if text => contents.bytes_contents.push(Bytes::copy_from_slice(
                        inference::label_text(label).as_bytes(),
                    )),
                    Label::Int(v) => contents.int64_contents.push(v),
                    Label::Float(v) => contents.fp64_contents.push(v),
                    Label::Bool(v) => contents.bool_contents.push(v),
                    Label::Str(v) => contents
                        .bytes_contents
                        .push(Bytes::copy_from_slice(v.as_bytes())),
                }
            }
        }
    }
    contents
}

#[cfg(test)]
mod tests {
    use super::super::generated::inference::model_infer_request::InferInputTensor;
    use super::*;

    fn input(datatype: &str, contents: Option<InferTensorContents>) -> InferInputTensor {
        InferInputTensor {
            name: "x".into(),
            datatype: datatype.into(),
            shape: vec![1, 2],
            parameters: HashMap::new(),
            contents,
        }
    }

    #[test]
    fn typed_contents_must_be_in_the_field_of_their_datatype() {
        let mut message = ModelInferRequest {
            inputs: vec![input(
                "FP64",
                Some(InferTensorContents {
                    int64_contents: vec![1, 2],
                    ..Default::default()
                }),
            )],
            ..Default::default()
        };
        let error = request_of(&mut message).unwrap_err();
        assert_eq!(error.code(), tonic::Code::InvalidArgument);
        assert!(
            error
                .message()
                .contains("contents.fp64_contents, but they are in contents.int64_contents")
        );
    }

    #[test]
    fn raw_contents_go_one_per_input_and_exclude_typed_ones() {
        let mut both = ModelInferRequest {
            inputs: vec![input(
                "FP64",
                Some(InferTensorContents {
                    fp64_contents: vec![1.0, 2.0],
                    ..Default::default()
                }),
            )],
            raw_input_contents: vec![Bytes::from(vec![0; 16])],
            ..Default::default()
        };
        assert!(
            request_of(&mut both)
                .unwrap_err()
                .message()
                .contains("one or the other")
        );
        let mut two = ModelInferRequest {
            inputs: vec![input("FP64", None)],
            raw_input_contents: vec![Bytes::new(), Bytes::new()],
            ..Default::default()
        };
        assert!(
            request_of(&mut two)
                .unwrap_err()
                .message()
                .contains("2 raw_input_contents for 1 inputs")
        );
        let mut raw = ModelInferRequest {
            inputs: vec![input("FP32", None)],
            raw_input_contents: vec![Bytes::from(vec![0; 8])],
            ..Default::default()
        };
        let (request, asked) = request_of(&mut raw).unwrap();
        assert!(asked.raw);
        let inference::Input::Tensors(inputs) = &request.input else {
            panic!("a gRPC request carries tensors");
        };
        assert!(matches!(inputs[0].data, TensorData::Raw(bytes) if bytes.len() == 8));
    }

    #[test]
    fn flags_are_bools_or_their_names() {
        let parameter = |choice| InferParameter {
            parameter_choice: Some(choice),
        };
        let parameters = HashMap::from([
            ("a".to_owned(), parameter(ParameterChoice::BoolParam(true))),
            (
                "b".to_owned(),
                parameter(ParameterChoice::StringParam("TRUE".into())),
            ),
            ("c".to_owned(), parameter(ParameterChoice::Int64Param(1))),
        ]);
        assert!(flag(&parameters, "a").unwrap());
        assert!(flag(&parameters, "b").unwrap());
        assert!(!flag(&parameters, "missing").unwrap());
        assert!(flag(&parameters, "c").is_err());
    }
}
