//! `metrics.csv`: one row per finished episode and one per training interval or evaluation, in
//! one table so that a plot or a spreadsheet reads it directly. Empty cells mean "not this kind".
//! Every row also goes to TensorBoard (`RUN_DIR/tb/`) under the names CleanRL uses.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const HEADER: &str = "kind,step,env,return,length,end_reason,loss,epsilon,mean_q,steps_per_second,\
eval_return_mean,eval_return_std,eval_success_rate";

/// One row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `episode`, `train` or `eval`.
    pub kind: String,
    pub step: u64,
    pub env: Option<usize>,
    pub episode_return: Option<f32>,
    pub length: Option<u32>,
    pub end_reason: Option<String>,
    pub loss: Option<f32>,
    pub epsilon: Option<f64>,
    pub mean_q: Option<f32>,
    pub steps_per_second: Option<f64>,
    pub eval_return_mean: Option<f32>,
    pub eval_return_std: Option<f32>,
    pub eval_success_rate: Option<f32>,
}

fn cell<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

impl Row {
    /// An `episode` row: env (or car slot) `env`'s episode ended at `step`.
    pub fn episode(
        step: u64,
        env: usize,
        episode_return: f32,
        length: u32,
        end: lepton_sim::EndReason,
    ) -> Self {
        Self {
            kind: "episode".into(),
            step,
            env: Some(env),
            episode_return: Some(episode_return),
            length: Some(length),
            end_reason: Some(end.name().to_string()),
            ..Default::default()
        }
    }

    /// A `train` row: the interval's mean loss and Q-value, ε, and env steps per second.
    pub fn train(
        step: u64,
        interval: &super::loop_state::Interval,
        epsilon: f64,
        steps_per_second: f64,
    ) -> Self {
        let mean = |sum: f64, n: u64| (n > 0).then(|| (sum / n as f64) as f32);
        Self {
            kind: "train".into(),
            step,
            loss: mean(interval.loss_sum, interval.loss_n),
            epsilon: Some(epsilon),
            mean_q: mean(interval.q_sum, interval.q_n),
            steps_per_second: Some(steps_per_second),
            ..Default::default()
        }
    }

    /// An `eval` row: an evaluation's mean and spread of returns and its success rate.
    pub fn eval(step: u64, summary: &super::eval::EvalSummary) -> Self {
        Self {
            kind: "eval".into(),
            step,
            eval_return_mean: Some(summary.mean_return),
            eval_return_std: Some(summary.std_return),
            eval_success_rate: Some(summary.success_rate),
            ..Default::default()
        }
    }

    /// The row's cells, in [`HEADER`] order.
    pub fn cells(&self) -> [String; 13] {
        [
            self.kind.clone(),
            self.step.to_string(),
            cell(&self.env),
            cell(&self.episode_return),
            cell(&self.length),
            cell(&self.end_reason),
            cell(&self.loss),
            cell(&self.epsilon),
            cell(&self.mean_q),
            self.steps_per_second.map(|v| format!("{v:.1}")).unwrap_or_default(),
            cell(&self.eval_return_mean),
            cell(&self.eval_return_std),
            cell(&self.eval_success_rate),
        ]
    }

    /// The row of a record read back; `None` for a record that is not one.
    pub fn from_record(f: &csv::StringRecord) -> Option<Row> {
        if f.len() != 13 {
            return None;
        }
        fn opt<T: std::str::FromStr>(s: &str) -> Option<T> {
            if s.is_empty() { None } else { s.parse().ok() }
        }
        Some(Row {
            kind: f[0].to_string(),
            step: f[1].parse().ok()?,
            env: opt(&f[2]),
            episode_return: opt(&f[3]),
            length: opt(&f[4]),
            end_reason: opt(&f[5]),
            loss: opt(&f[6]),
            epsilon: opt(&f[7]),
            mean_q: opt(&f[8]),
            steps_per_second: opt(&f[9]),
            eval_return_mean: opt(&f[10]),
            eval_return_std: opt(&f[11]),
            eval_success_rate: opt(&f[12]),
        })
    }
}

/// Appends rows, flushing each so a killed run keeps everything it logged.
pub struct MetricsWriter {
    path: PathBuf,
    csv: csv::Writer<std::fs::File>,
    /// Rows in the file.
    rows: u64,
    tensorboard: Option<lepton_artifacts::tensorboard::EventWriter>,
}

/// A row's scalars under CleanRL's TensorBoard names.
pub fn tensorboard_scalars(row: &Row) -> Vec<(&'static str, f64)> {
    let mut out = Vec::new();
    let mut put = |tag, v: Option<f64>| {
        if let Some(v) = v {
            out.push((tag, v));
        }
    };
    match row.kind.as_str() {
        "episode" => {
            put("charts/episodic_return", row.episode_return.map(f64::from));
            put("charts/episodic_length", row.length.map(f64::from));
        }
        "train" => {
            put("losses/td_loss", row.loss.map(f64::from));
            put("losses/q_values", row.mean_q.map(f64::from));
            put("charts/epsilon", row.epsilon);
            put("charts/SPS", row.steps_per_second);
        }
        "eval" => {
            put("eval/mean_return", row.eval_return_mean.map(f64::from));
            put("eval/std_return", row.eval_return_std.map(f64::from));
            put("eval/success_rate", row.eval_success_rate.map(f64::from));
        }
        _ => {}
    }
    out
}

/// The records of a metrics file's text, after its header (rows that do not parse are skipped).
fn records(text: &str) -> impl Iterator<Item = Row> + '_ {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .filter_map(|r| Row::from_record(&r.ok()?))
}

impl MetricsWriter {
    /// A new file, or on resume the old one cut back to its header and first `keep_rows` rows:
    /// the rows its checkpoint counted (rows logged after it are redone by the resumed run). A
    /// file with fewer whole rows than that, or without the header, is damaged and refused.
    pub fn open(path: &Path, keep_rows: Option<u64>) -> std::io::Result<Self> {
        let text = match keep_rows {
            Some(keep) => {
                let bytes = std::fs::read(path)?;
                let header = format!("{HEADER}\n");
                let ends: Vec<usize> =
                    bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect();
                if !bytes.starts_with(header.as_bytes()) || (ends.len() as u64) < keep + 1 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "damaged: {} whole rows{}, the checkpoint counted {keep}",
                            ends.len().saturating_sub(1),
                            if bytes.starts_with(header.as_bytes()) { "" } else { " and no header" }
                        ),
                    ));
                }
                bytes[..ends[keep as usize]].to_vec()
            }
            None => {
                let mut table = csv::Writer::from_writer(Vec::new());
                table.write_record(HEADER.split(','))?;
                table.into_inner().map_err(|e| e.into_error())?
            }
        };
        lepton_artifacts::atomic::write(path, &text)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            csv: csv::Writer::from_writer(file),
            rows: keep_rows.unwrap_or(0),
            tensorboard: None,
        })
    }

    /// Also logs every row to a new TensorBoard event file in `dir`; `resumed_at` (the step a
    /// resume starts from) tells TensorBoard to drop what a killed run logged after it.
    pub fn with_tensorboard(mut self, dir: &Path, resumed_at: Option<u64>) -> std::io::Result<Self> {
        self.tensorboard = Some(lepton_artifacts::tensorboard::EventWriter::create(dir, resumed_at)?);
        Ok(self)
    }

    pub fn write(&mut self, row: &Row) -> std::io::Result<()> {
        self.csv.write_record(row.cells())?;
        self.rows += 1;
        if let Some(tb) = &mut self.tensorboard {
            tb.scalars(row.step, &tensorboard_scalars(row))?;
        }
        self.csv.flush()
    }

    /// Flushes every row to disk; returns how many rows the file holds.
    pub fn sync(&mut self) -> std::io::Result<u64> {
        if let Some(tb) = &mut self.tensorboard {
            tb.flush()?;
        }
        self.csv.flush()?;
        self.csv.get_ref().sync_data()?;
        Ok(self.rows)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every row of a metrics file.
pub fn read(path: &Path) -> std::io::Result<Vec<Row>> {
    Ok(records(&std::fs::read_to_string(path)?).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_a_resume_keeps_exactly_the_rows_its_checkpoint_counted() {
        let dir = std::env::temp_dir().join(format!("lepton-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let rows = [
            Row {
                kind: "episode".into(),
                step: 10,
                env: Some(1),
                episode_return: Some(-1.25),
                length: Some(7),
                end_reason: Some("off_road".into()),
                ..Default::default()
            },
            Row {
                kind: "train".into(),
                step: 20,
                loss: Some(0.5),
                epsilon: Some(0.9),
                steps_per_second: Some(123.4),
                ..Default::default()
            },
            Row {
                kind: "eval".into(),
                step: 30,
                eval_return_mean: Some(2.0),
                eval_return_std: Some(0.5),
                eval_success_rate: Some(1.0),
                ..Default::default()
            },
        ];
        let mut writer = MetricsWriter::open(&path, None).unwrap();
        for row in &rows {
            writer.write(row).unwrap();
        }
        assert_eq!(writer.sync().unwrap(), 3);
        assert_eq!(read(&path).unwrap(), rows);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some(HEADER));
        assert_eq!(text.lines().nth(2), Some("train,20,,,,,0.5,0.9,,123.4,,,"));

        // A row half-written when the run was killed is dropped with the rows after the checkpoint.
        std::fs::write(&path, format!("{text}episode,40,0,1.5")).unwrap();
        MetricsWriter::open(&path, Some(2)).unwrap();
        assert_eq!(read(&path).unwrap(), rows[..2]);
        // A file with fewer rows than its checkpoint counted is damaged.
        let short = MetricsWriter::open(&path, Some(3)).err().unwrap();
        assert!(short.to_string().contains("damaged"), "{short}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
