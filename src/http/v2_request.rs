//! The V2 inference request (`$inference_request`): its types as serde_json reads them, and
//! [`read`], which reads the usual request straight from the body's bytes, data and all, in one
//! pass.
//!
//! serde_json's derive is the reader of every request: [`read`] gives up (`None`) on anything
//! it does not know or that is wrong (an unknown key, a repeated key, an escape in a name, a
//! flag sent as a string, a syntax error), and the handler then reads the body with serde_json,
//! which also words any error. So [`read`] only ever answers with what serde_json would, and a
//! test feeds both the same bodies, valid and invalid, and checks it. Through serde the data
//! is skipped once to find where it ends (`RawValue`) and read again by `v2_data`, and each
//! key and string is checked as UTF-8 on its own: half of what a one-row request cost.
//!
//! What the request means (datatypes, shapes, outputs) is `crate::inference`'s, not this
//! module's.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use super::binary::Sections;
use super::error::ApiError;
use super::v2_data::{self, ElementData};
use crate::inference::{Datatype, InputTensor, TensorData};

#[derive(Debug, Deserialize)]
pub(super) struct InferenceRequest<'a> {
    #[serde(default, borrow)]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) parameters: RequestParameters,
    #[serde(borrow)]
    pub(super) inputs: Vec<RequestInput<'a>>,
    #[serde(default, borrow)]
    pub(super) outputs: Vec<RequestOutput<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RequestParameters {
    #[serde(default, deserialize_with = "flag")]
    pub(super) explain: bool,
    #[serde(default, deserialize_with = "flag")]
    pub(super) predict_proba: bool,
    /// Every output binary unless it says otherwise (the binary extension).
    #[serde(default, deserialize_with = "flag")]
    pub(super) binary_data_output: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestOutput<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(default)]
    pub(super) parameters: RequestedOutputParameters,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RequestedOutputParameters {
    #[serde(default, deserialize_with = "optional_flag")]
    pub(super) binary_data: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestInput<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    shape: Vec<i64>,
    #[serde(borrow)]
    datatype: Cow<'a, str>,
    #[serde(default, borrow)]
    data: Option<Data<'a>>,
    #[serde(default)]
    parameters: InputParameters,
}

/// An input's JSON `data`: raw text as serde_json hands it over (read by `v2_data` once the
/// request is known to be well formed), or already read by [`read`].
#[derive(Debug)]
enum Data<'a> {
    Raw(&'a RawValue),
    Read(ElementData<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(Data::Raw)
    }
}

#[derive(Debug, Default, Deserialize)]
struct InputParameters {
    /// Bytes of this input's binary data after the JSON (the binary extension).
    #[serde(default)]
    binary_data_size: Option<u64>,
}

impl<'a> RequestInput<'a> {
    /// The tensor, its data from JSON or from the binary data after it.
    pub(super) fn into_tensor(
        self,
        sections: &mut Sections<'a>,
    ) -> Result<InputTensor<'a>, ApiError> {
        let datatype = Datatype::parse(&self.name, &self.datatype)?;
        let name = self.name;
        let data = match (self.data, self.parameters.binary_data_size) {
            (Some(_), Some(_)) => {
                return Err(ApiError::BadRequest(format!(
                    "input '{name}' has both \"data\" and parameters.binary_data_size; send one"
                )));
            }
            (None, Some(size)) => TensorData::Raw(sections.take(&name, size)?),
            (Some(Data::Raw(data)), None) => v2_data::read(data.get())
                .map_err(|e| ApiError::BadRequest(format!("input '{name}': \"data\" {e}")))?
                .into_tensor_data(),
            (Some(Data::Read(data)), None) => data.into_tensor_data(),
            (None, None) => {
                return Err(ApiError::BadRequest(format!(
                    "input '{name}' has no \"data\" (nor parameters.binary_data_size for \
                     binary data after the JSON)"
                )));
            }
        };
        Ok(InputTensor {
            name,
            datatype,
            shape: self.shape,
            data,
        })
    }
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(deserializer)? {
        Flag::Bool(b) => Ok(b),
        Flag::Text(t) if t.eq_ignore_ascii_case("true") => Ok(true),
        Flag::Text(t) if t.eq_ignore_ascii_case("false") => Ok(false),
        Flag::Text(t) => Err(de::Error::custom(format_args!(
            "expected true or false, found {t:?}"
        ))),
    }
}

fn optional_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    flag(deserializer).map(Some)
}

/// The request in `json` when it is one this reader knows through and through, else `None`
/// (see the module's docs): an object of `id` (a string or null), `parameters` (the flags as
/// booleans), `inputs` (`name`, `shape`, `datatype`, `data` or `parameters.binary_data_size`)
/// and `outputs` (`name`, `parameters.binary_data` as a boolean), each key once, every name
/// without escapes.
pub(super) fn read(json: &[u8]) -> Option<InferenceRequest<'_>> {
    // Checked once here rather than string by string.
    let text = std::str::from_utf8(json).ok()?;
    let mut cursor = Cursor {
        bytes: json,
        text,
        at: 0,
    };
    let request = cursor.request()?;
    cursor.skip_whitespace();
    (cursor.at == json.len()).then_some(request)
}

/// A position in the body being read.
struct Cursor<'a> {
    bytes: &'a [u8],
    /// The same bytes, known to be UTF-8.
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn request(&mut self) -> Option<InferenceRequest<'a>> {
        let (mut id, mut parameters, mut inputs, mut outputs) = (None, None, None, None);
        let keys = ["id", "parameters", "inputs", "outputs"];
        self.fields(&keys, |cursor, field| {
            match field {
                0 if cursor.literal(b"null") => id = None,
                0 => id = Some(Cow::Borrowed(cursor.text()?)),
                1 => parameters = Some(cursor.request_parameters()?),
                2 => inputs = Some(cursor.items(1, Self::input)?),
                _ => outputs = Some(cursor.items(0, Self::output)?),
            }
            Some(())
        })?;
        Some(InferenceRequest {
            id,
            parameters: parameters.unwrap_or_default(),
            inputs: inputs?,
            outputs: outputs.unwrap_or_default(),
        })
    }

    fn request_parameters(&mut self) -> Option<RequestParameters> {
        let mut parameters = RequestParameters::default();
        let keys = ["explain", "predict_proba", "binary_data_output"];
        self.fields(&keys, |cursor, field| {
            let flag = cursor.boolean()?;
            match field {
                0 => parameters.explain = flag,
                1 => parameters.predict_proba = flag,
                _ => parameters.binary_data_output = flag,
            }
            Some(())
        })?;
        Some(parameters)
    }

    fn input(&mut self) -> Option<RequestInput<'a>> {
        let (mut name, mut shape, mut datatype, mut data) = (None, None, None, None);
        let mut parameters = InputParameters::default();
        let keys = ["name", "shape", "datatype", "data", "parameters"];
        self.fields(&keys, |cursor, field| {
            match field {
                0 => name = Some(cursor.text()?),
                1 => shape = Some(cursor.items(2, Self::integer)?),
                2 => datatype = Some(cursor.text()?),
                3 => {
                    // `null` is no data to serde: left to it.
                    cursor.skip_whitespace();
                    (cursor.bytes.get(cursor.at) != Some(&b'n')).then_some(())?;
                    let (elements, end) = v2_data::scan(cursor.bytes, cursor.at).ok()?;
                    cursor.at = end;
                    data = Some(Data::Read(elements));
                }
                _ => {
                    parameters.binary_data_size = cursor.only("binary_data_size", |cursor| {
                        u64::try_from(cursor.integer()?).ok()
                    })?;
                }
            }
            Some(())
        })?;
        Some(RequestInput {
            name: Cow::Borrowed(name?),
            shape: shape?,
            datatype: Cow::Borrowed(datatype?),
            data,
            parameters,
        })
    }

    fn output(&mut self) -> Option<RequestOutput<'a>> {
        let mut name = None;
        let mut parameters = RequestedOutputParameters::default();
        self.fields(&["name", "parameters"], |cursor, field| {
            match field {
                0 => name = Some(cursor.text()?),
                _ => parameters.binary_data = cursor.only("binary_data", Self::boolean)?,
            }
            Some(())
        })?;
        Some(RequestOutput {
            name: Cow::Borrowed(name?),
            parameters,
        })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// Steps over `byte`, after any whitespace, if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let next = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(next);
        next
    }

    /// Steps over `word` (`true`, `false`, `null`), after any whitespace, if it comes next.
    fn literal(&mut self, word: &[u8]) -> bool {
        self.skip_whitespace();
        let next = self.bytes[self.at..].starts_with(word);
        if next {
            self.at += word.len();
        }
        next
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true") {
            Some(true)
        } else {
            self.literal(b"false").then_some(false)
        }
    }

    /// A string without escapes (nor the control characters JSON refuses in one), as UTF-8.
    fn text(&mut self) -> Option<&'a str> {
        self.eat(b'"').then_some(())?;
        let start = self.at;
        // Byte by byte: keys and datatypes are a few bytes long, too short for a word scan.
        let length = self.bytes[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        let end = start + length;
        (self.bytes[end] == b'"').then_some(())?;
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// A JSON integer (no fraction, no exponent) an `i64` holds.
    fn integer(&mut self) -> Option<i64> {
        self.skip_whitespace();
        let negative = self.eat(b'-');
        let start = self.at;
        let mut value = 0i64;
        while let Some(&digit @ b'0'..=b'9') = self.bytes.get(self.at) {
            let digit = i64::from(digit - b'0');
            // Built on the negative side, which holds `i64::MIN`.
            value = value.checked_mul(10)?.checked_sub(digit)?;
            self.at += 1;
        }
        let length = self.at - start;
        if length == 0 || (length > 1 && self.bytes[start] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.bytes.get(self.at) {
            return None;
        }
        if negative {
            Some(value)
        } else {
            value.checked_neg()
        }
    }

    /// An object, each of its values read by `field` given its key; `None` when `field` is.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{').then_some(())?;
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.text()?;
            self.eat(b':').then_some(())?;
            field(self, key)?;
            if self.eat(b'}') {
                return Some(());
            }
            self.eat(b',').then_some(())?;
        }
    }

    /// An object of some of `keys`, each once (serde refuses a repeated field, and a key not
    /// listed is left to it), each value read by `field` given its key's place in `keys`.
    fn fields(
        &mut self,
        keys: &[&str],
        mut field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let mut seen = 0u32;
        self.object(|cursor, key| {
            let index = keys.iter().position(|k| *k == key)?;
            let bit = 1 << index;
            (seen & bit == 0).then_some(())?;
            seen |= bit;
            field(cursor, index)
        })
    }

    /// An object of at most one key, `name`, its value read by `value`.
    fn only<T>(
        &mut self,
        name: &str,
        mut value: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        let mut found = None;
        self.fields(&[name], |cursor, _| {
            found = Some(value(cursor)?);
            Some(())
        })?;
        Some(found)
    }

    /// A list, each of its items read by `item` (room for `capacity` at first); `None` when
    /// `item` is.
    fn items<T>(
        &mut self,
        capacity: usize,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut items = Vec::with_capacity(capacity);
        self.eat(b'[').then_some(())?;
        if self.eat(b']') {
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(b']') {
                return Some(items);
            }
            self.eat(b',').then_some(())?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json reads from `json`, its data read by `v2_data`, as text to compare; or
    /// the error it words.
    fn through_serde(json: &str) -> Result<String, String> {
        let mut request: InferenceRequest<'_> =
            serde_json::from_str(json).map_err(|e| e.to_string())?;
        for input in &mut request.inputs {
            if let Some(Data::Raw(raw)) = input.data {
                input.data = Some(Data::Read(v2_data::read(raw.get())?));
            }
        }
        Ok(format!("{request:?}"))
    }

    /// Bodies the reader reads itself: the usual requests of every client.
    const READ: &[&str] = &[
        r#"{"inputs":[{"name":"x","shape":[1,37],"datatype":"FP64","data":[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]}]}"#,
        r#" { "id" : "r-1" , "inputs" : [ { "name" : "x" , "shape" : [ 2 , 2 ] , "datatype" : "FP32" , "data" : [ [ 1.5 , -2e3 ] , [ 0 , -0 ] ] } ] } "#,
        "{\n\t\"id\": null,\r\n\"inputs\": []}",
        r#"{"inputs":[{"name":"a","shape":[3],"datatype":"BYTES","data":["x",null,"é"]},{"name":"b","shape":[3],"datatype":"BOOL","data":[true,false,true]}]}"#,
        r#"{"parameters":{"predict_proba":true,"explain":false},"inputs":[{"name":"x","shape":[1,2],"datatype":"INT64","data":[1,2]}],"outputs":[{"name":"predict_proba"},{"name":"predict","parameters":{"binary_data":false}}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","parameters":{"binary_data_size":16}}],"parameters":{"binary_data_output":true},"outputs":[]}"#,
        r#"{"inputs":[{"name":"x","shape":[-1,9223372036854775807,-9223372036854775808],"datatype":"FP64","data":[1e-320,1.7976931348623157e308,123456789012345678]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":7}],"id":""}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","parameters":{},"data":[[[]]]}],"parameters":{}}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64"}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a\"b", "\u00e9\ud83d\ude00", "\\"]}]}"#,
    ];

    /// Bodies the reader leaves to serde_json: valid ones it does not know through and
    /// through, and invalid ones of every kind.
    const LEFT: &[&str] = &[
        // Valid, but not the reader's.
        r#"{"inputs":[],"extra":{"a":[1,{"b":null}]}}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1],"extra":1}]}"#,
        r#"{"inputs":[],"parameters":{"predict_proba":"True"}}"#,
        r#"{"inputs":[],"parameters":{"content_type":"np"}}"#,
        r#"{"inputs":[],"outputs":[{"name":"p","parameters":{"binary_data":"false"}}]}"#,
        r#"{"inputs":[{"name":"x\u0031","shape":[1],"datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"na\u006de":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#,
        r#"{"id":"\n","inputs":[]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":null}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1],"parameters":{"binary_data_size":null}}]}"#,
        r#"{"inputs":[["x",[1],"FP64",[1]]]}"#,
        // Refused by serde_json or by `v2_data`.
        "",
        "  ",
        "[]",
        "null",
        r#"{"inputs":[]}x"#,
        r#"{"inputs":[],}"#,
        r#"{"inputs":[],"inputs":[]}"#,
        r#"{"id":null,"id":"a","inputs":[]}"#,
        r#"{"parameters":{"explain":true,"explain":false},"inputs":[]}"#,
        r#"{"id":"a"}"#,
        r#"{"inputs":[{"name":"x","datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1.0],"datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[01],"datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[9223372036854775808],"datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[- 1],"datatype":"FP64","data":[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","parameters":{"binary_data_size":-1}}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1,,2]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1,]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[,1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1 2]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[[1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[01]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[-]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1.]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[.5]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1e]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[+1]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[tru]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[nul]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[NaN]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1e400]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[{"a":1}]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a]}]}"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["\x"]}]}"#,
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a\tb\"]}]}",
        "{\"inputs\":[{\"name\":\"x\ty\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[1]}]}",
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]"#,
        r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1"#,
        r#"{"inputs" [],}"#,
        r#"{inputs:[]}"#,
        r#"{"parameters":{"explain":True},"inputs":[]}"#,
        r#"{"parameters":null,"inputs":[]}"#,
        r#"{"id":1,"inputs":[]}"#,
    ];

    /// Every body the reader reads, it reads as serde_json does; the others it leaves.
    #[test]
    fn the_reader_reads_as_serde_json_or_leaves_the_body_to_it() {
        let deep = format!(
            r#"{{"inputs":[{{"name":"x","shape":[1],"datatype":"FP64","data":{}1{}}}]}}"#,
            "[".repeat(v2_data::MAX_DEPTH + 1),
            "]".repeat(v2_data::MAX_DEPTH + 1)
        );
        for json in READ {
            let read = read(json.as_bytes()).unwrap_or_else(|| panic!("left {json}"));
            assert_eq!(Ok(format!("{read:?}")), through_serde(json), "{json}");
        }
        for json in LEFT.iter().copied().chain([deep.as_str()]) {
            assert!(read(json.as_bytes()).is_none(), "read {json}");
        }
        // Bytes that are not UTF-8, in a name and in the data.
        for json in [
            &b"{\"inputs\":[{\"name\":\"\xff\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[1]}]}"[..],
            b"{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"\xc3\"]}]}",
        ] {
            assert!(read(json).is_none());
            assert!(serde_json::from_slice::<InferenceRequest<'_>>(json).is_err());
        }
    }

    /// Each body cut short anywhere is read as serde_json reads it, or left to it.
    #[test]
    fn a_body_cut_anywhere_reads_as_serde_json_or_is_left() {
        for json in READ {
            for end in 0..json.len() {
                let Some(cut) = json.get(..end) else { continue };
                if let Some(read) = read(cut.as_bytes()) {
                    assert_eq!(Ok(format!("{read:?}")), through_serde(cut), "{cut}");
                }
            }
        }
    }
}
