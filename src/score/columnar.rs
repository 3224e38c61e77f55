//! Records as flat rows, for Parquet and CSV (and back, for merging Parquet scores files).
//!
//! One row per record, `kind` = `stance` or `paragraph`; the JSON record's nested objects become
//! columns a spreadsheet or SQL user expects: `p_against`, `p_neutral`, `p_favor`, `score`,
//! `label`; `editorial_p_against` … `editorial_label`; for paragraph outputs `register_p_report` …
//! `register_label`, `loaded_p_no`, `loaded_p_yes`, `loaded_label`. Parquet keeps the lists and
//! structs as such: `mentions` (list of {text, start, end}), `loaded_spans` (list of {text, start,
//! end, p}) and `model` ({name, sha256}); CSV, flat columns only, writes `model_name`,
//! `model_sha256` and leaves the lists out. Columns that do not apply to a row's kind are null.
//! The schema is fixed by the first 4,096 records (the paragraph outputs come from the model).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde_json::{Map, Value, json};

use super::output::{PartialFile, RecordWriter};
use super::{ClassScore, OutputValue, ParagraphRef, ParagraphScore, Probs, Record, SpanScore, StanceScore};
use crate::error::{Error, Result};

const BUFFER: usize = 4096;
const STANCE: [&str; 3] = ["against", "neutral", "favor"];

/// Column names that are not paragraph outputs (so `X_label` is an output only if X is not here).
const FIXED: [&str; 16] = ["kind", "doc_id", "source", "title", "date", "url", "leaning", "paragraph", "section", "start", "end", "target", "text", "windows", "model", "mentions"];

/// A record as one flat JSON object (lists and the model struct kept; see the module docs).
pub fn flatten(r: &Record) -> Map<String, Value> {
    let mut m = Map::new();
    let common = |m: &mut Map<String, Value>, kind: &str, at: &ParagraphRef, text: &str| {
        m.insert("kind".into(), kind.into());
        m.insert("doc_id".into(), at.doc_id.clone().into());
        m.insert("source".into(), at.source.clone().into());
        for (k, v) in [("title", &at.title), ("date", &at.date), ("url", &at.url), ("leaning", &at.leaning)] {
            m.insert(k.into(), v.clone().map_or(Value::Null, Value::String));
        }
        m.insert("paragraph".into(), at.paragraph.into());
        m.insert("section".into(), at.section.as_str().into());
        m.insert("start".into(), at.start.into());
        m.insert("end".into(), at.end.into());
        m.insert("text".into(), text.into());
    };
    match r {
        Record::Stance(s) => {
            common(&mut m, "stance", &s.at, &s.text);
            m.insert("target".into(), s.target.clone().into());
            m.insert("mentions".into(), json!(s.mentions));
            put_stance(&mut m, "", &s.probs, s.score, &s.label);
            if let Some(e) = &s.editorial {
                put_stance(&mut m, "editorial_", &e.probs, e.score, &e.label);
            }
            m.insert("windows".into(), s.windows.into());
            m.insert("model".into(), json!(s.model));
        }
        Record::Paragraph(p) => {
            common(&mut m, "paragraph", &p.at, &p.text);
            for (name, v) in &p.outputs {
                match v {
                    OutputValue::Class(c) => {
                        for (label, prob) in &c.probs {
                            m.insert(format!("{name}_p_{label}"), json!(prob));
                        }
                        m.insert(format!("{name}_label"), c.label.clone().into());
                    }
                    OutputValue::Spans(s) => {
                        m.insert(name.clone(), json!(s));
                    }
                }
            }
            m.insert("windows".into(), p.windows.into());
            m.insert("model".into(), json!(p.model));
        }
    }
    m
}

fn put_stance(m: &mut Map<String, Value>, prefix: &str, p: &Probs, score: f32, label: &str) {
    m.insert(format!("{prefix}p_against"), json!(p.against));
    m.insert(format!("{prefix}p_neutral"), json!(p.neutral));
    m.insert(format!("{prefix}p_favor"), json!(p.favor));
    m.insert(format!("{prefix}score"), json!(score));
    m.insert(format!("{prefix}label"), label.into());
}

/// The inverse of [`flatten`] (null columns absent or null).
pub fn unflatten(mut m: Map<String, Value>) -> std::result::Result<Record, String> {
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("stance").to_string();
    m.retain(|_, v| !v.is_null());
    let take_stance = |m: &mut Map<String, Value>, prefix: &str| -> Option<(Probs, f32, String)> {
        let f = |m: &mut Map<String, Value>, k: &str| m.remove(&format!("{prefix}{k}")).and_then(|v| v.as_f64()).map(|x| x as f32);
        let probs = Probs { against: f(m, "p_against")?, neutral: f(m, "p_neutral")?, favor: f(m, "p_favor")? };
        let score = f(m, "score")?;
        let label = m.remove(&format!("{prefix}label"))?.as_str()?.to_string();
        Some((probs, score, label))
    };
    if kind == "stance" {
        let (probs, score, label) = take_stance(&mut m, "").ok_or("stance row without p_against/p_neutral/p_favor/score/label")?;
        let editorial = take_stance(&mut m, "editorial_").map(|(probs, score, label)| super::OutputScore { probs, score, label });
        let mut v = Value::Object(m);
        v["probs"] = json!(probs);
        v["score"] = json!(score);
        v["label"] = json!(label);
        if let Some(e) = editorial {
            v["editorial"] = json!(e);
        }
        v.as_object_mut().expect("object").remove("kind");
        let s: StanceScore = serde_json::from_value(v).map_err(|e| e.to_string())?;
        return Ok(Record::Stance(s));
    }
    // paragraph: `X_label` with `X_p_*` columns are class outputs, `*_spans` lists are spans
    let mut outputs = std::collections::BTreeMap::new();
    let names: Vec<String> = m.keys().filter_map(|k| k.strip_suffix("_label")).filter(|n| !FIXED.contains(n)).map(str::to_string).collect();
    for name in names {
        let label = m.remove(&format!("{name}_label")).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let prefix = format!("{name}_p_");
        let keys: Vec<String> = m.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        let probs = keys.into_iter().map(|k| (k[prefix.len()..].to_string(), m.remove(&k).and_then(|v| v.as_f64()).unwrap_or(0.0) as f32)).collect();
        outputs.insert(name, OutputValue::Class(ClassScore { probs, label }));
    }
    let span_keys: Vec<String> = m.keys().filter(|k| k.ends_with("_spans")).cloned().collect();
    for k in span_keys {
        let spans: Vec<SpanScore> = serde_json::from_value(m.remove(&k).expect("listed")).map_err(|e| e.to_string())?;
        outputs.insert(k, OutputValue::Spans(spans));
    }
    m.remove("kind");
    let mut p: ParagraphScore = serde_json::from_value(Value::Object(m)).map_err(|e| e.to_string())?;
    p.outputs = outputs;
    Ok(Record::Paragraph(p))
}

/// The Arrow schema for a set of flat rows: fixed columns first, then output columns by name.
fn schema_for(rows: &[Map<String, Value>], flat_only: bool) -> Schema {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    let f = |n: &str| Field::new(n, DataType::Float32, true);
    let mention = Fields::from(vec![s("text"), i("start"), i("end")]);
    let span = Fields::from(vec![s("text"), i("start"), i("end"), f("p")]);
    let mut fields = vec![Field::new("kind", DataType::Utf8, false), s("doc_id"), s("source"), s("title"), s("date"), s("url"), s("leaning"), i("paragraph"), s("section"), i("start"), i("end"), s("target"), s("text")];
    if !flat_only {
        fields.push(Field::new("mentions", DataType::List(Arc::new(Field::new("item", DataType::Struct(mention), true))), true));
    }
    for prefix in ["", "editorial_"] {
        for l in STANCE {
            fields.push(f(&format!("{prefix}p_{l}")));
        }
        fields.push(f(&format!("{prefix}score")));
        fields.push(s(&format!("{prefix}label")));
    }
    // paragraph outputs, in name order
    let mut extra: std::collections::BTreeMap<String, Field> = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| r.get("kind").and_then(Value::as_str) == Some("paragraph")) {
        for (k, v) in row {
            if FIXED.contains(&k.as_str()) || k.starts_with("p_") || k.starts_with("editorial_") || k == "score" || k == "label" || k.starts_with("model_") {
                continue;
            }
            let field = match v {
                Value::Array(_) if flat_only => continue,
                Value::Array(_) => Field::new(k, DataType::List(Arc::new(Field::new("item", DataType::Struct(span.clone()), true))), true),
                Value::Number(_) => f(k),
                _ => s(k),
            };
            extra.entry(k.clone()).or_insert(field);
        }
    }
    fields.extend(extra.into_values());
    fields.push(i("windows"));
    if flat_only {
        fields.push(s("model_name"));
        fields.push(s("model_sha256"));
    } else {
        fields.push(Field::new("model", DataType::Struct(Fields::from(vec![s("name"), s("sha256")])), true));
    }
    Schema::new(fields)
}

fn to_batch(schema: &SchemaRef, rows: &[Map<String, Value>]) -> Result<RecordBatch> {
    let err = |e: arrow_schema::ArrowError| Error::Usage(format!("building the output table: {e}"));
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone()).with_batch_size(rows.len().max(1)).build_decoder().map_err(err)?;
    decoder.serialize(rows).map_err(err)?;
    Ok(decoder.flush().map_err(err)?.unwrap_or_else(|| RecordBatch::new_empty(schema.clone())))
}

fn check_columns(schema: &Schema, row: &Map<String, Value>, path: &std::path::Path) -> Result<()> {
    for k in row.keys() {
        if schema.field_with_name(k).is_err() {
            return Err(Error::Usage(format!(
                "{}: a record has column {k:?}, which the first {BUFFER} records did not have\n  help: write one model's records per file; mixed models cannot share a table",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Parquet output: rows buffered, written a row group at a time (snappy), renamed into place at finish.
pub struct ParquetSink {
    file: Option<PartialFile>,
    path: std::path::PathBuf,
    rows: Vec<Map<String, Value>>,
    writer: Option<parquet::arrow::ArrowWriter<std::fs::File>>,
    schema: Option<SchemaRef>,
}

impl ParquetSink {
    pub fn new(path: &std::path::Path) -> Result<ParquetSink> {
        Ok(ParquetSink { file: Some(PartialFile::new(path)), path: path.to_path_buf(), rows: Vec::new(), writer: None, schema: None })
    }

    fn flush_rows(&mut self) -> Result<()> {
        if self.writer.is_none() {
            let schema: SchemaRef = Arc::new(schema_for(&self.rows, false));
            let pf = self.file.as_mut().expect("open until finish");
            let f = pf.get()?.get_ref().try_clone().map_err(|e| pf.io_err(e))?;
            let props = parquet::file::properties::WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build();
            self.writer = Some(parquet::arrow::ArrowWriter::try_new(f, schema.clone(), Some(props)).map_err(|e| Error::Usage(format!("{}: {e}", self.path.display())))?);
            self.schema = Some(schema);
        }
        let schema = self.schema.clone().expect("set");
        for r in &self.rows {
            check_columns(&schema, r, &self.path)?;
        }
        let batch = to_batch(&schema, &self.rows)?;
        self.writer.as_mut().expect("set").write(&batch).map_err(|e| Error::Usage(format!("{}: {e}", self.path.display())))?;
        self.rows.clear();
        Ok(())
    }
}

impl RecordWriter for ParquetSink {
    fn write(&mut self, r: &Record) -> Result<()> {
        self.rows.push(flatten(r));
        if self.rows.len() >= BUFFER {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_rows()?;
        let w = self.writer.take().expect("made by flush_rows");
        w.close().map_err(|e| Error::Usage(format!("{}: {e}", self.path.display())))?;
        self.file.take().expect("open until finish").commit()
    }
}

/// CSV output: flat columns only (see the module docs).
pub struct CsvSink {
    file: Option<PartialFile>,
    path: std::path::PathBuf,
    rows: Vec<Map<String, Value>>,
    columns: Option<Vec<String>>,
}

impl CsvSink {
    pub fn new(path: &std::path::Path) -> Result<CsvSink> {
        Ok(CsvSink { file: Some(PartialFile::new(path)), path: path.to_path_buf(), rows: Vec::new(), columns: None })
    }

    fn flat(r: &Record) -> Map<String, Value> {
        let mut m = flatten(r);
        m.remove("mentions");
        if let Some(model) = m.remove("model") {
            m.insert("model_name".into(), model["name"].clone());
            m.insert("model_sha256".into(), model["sha256"].clone());
        }
        m.retain(|_, v| !v.is_array());
        m
    }

    fn flush_rows(&mut self) -> Result<()> {
        let file = self.file.as_mut().expect("open until finish");
        let header = self.columns.is_none();
        let columns = self.columns.get_or_insert_with(|| schema_for(&self.rows, true).fields().iter().map(|f| f.name().clone()).collect()).clone();
        let out = file.get()?;
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
        let err = |e: csv::Error| Error::Usage(format!("{}: {e}", self.path.display()));
        if header {
            w.write_record(&columns).map_err(err)?;
        }
        for r in &self.rows {
            for k in r.keys() {
                if !columns.contains(k) {
                    return Err(Error::Usage(format!("{}: a record has column {k:?}, which the first {BUFFER} records did not have\n  help: write one model's records per file", self.path.display())));
                }
            }
            let cells: Vec<String> = columns
                .iter()
                .map(|c| match r.get(c) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect();
            w.write_record(&cells).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(&self.path, e))?;
        self.rows.clear();
        Ok(())
    }
}

impl RecordWriter for CsvSink {
    fn write(&mut self, r: &Record) -> Result<()> {
        self.rows.push(CsvSink::flat(r));
        if self.rows.len() >= BUFFER {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_rows()?;
        self.file.take().expect("open until finish").commit()
    }
}

/// Records from a Parquet scores file written by `slant score -o FILE.parquet`.
pub fn read_parquet_records(path: &std::path::Path) -> Result<Vec<Record>> {
    crate::ingest::parquet::read_rows(path)?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            unflatten(row).map_err(|e| Error::Input { path: path.to_path_buf(), message: format!("row {}: not a slant score record: {e}", i + 1), help: "profile and report read scores written by `slant score`".into() })
        })
        .collect()
}
