//! `metrics.csv`: one row per finished episode and one per training interval or evaluation, in
//! one table so that a plot or a spreadsheet reads it directly. Empty cells mean "not this kind".

use serde::{Deserialize, Serialize};
use std::io::Write;
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
    pub fn to_csv(&self) -> String {
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
        .join(",")
    }

    pub fn from_csv(line: &str) -> Option<Row> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 13 {
            return None;
        }
        fn opt<T: std::str::FromStr>(s: &str) -> Option<T> {
            if s.is_empty() { None } else { s.parse().ok() }
        }
        Some(Row {
            kind: f[0].to_string(),
            step: f[1].parse().ok()?,
            env: opt(f[2]),
            episode_return: opt(f[3]),
            length: opt(f[4]),
            end_reason: opt(f[5]),
            loss: opt(f[6]),
            epsilon: opt(f[7]),
            mean_q: opt(f[8]),
            steps_per_second: opt(f[9]),
            eval_return_mean: opt(f[10]),
            eval_return_std: opt(f[11]),
            eval_success_rate: opt(f[12]),
        })
    }
}

/// Appends rows, flushing each so a killed run keeps everything it logged.
pub struct MetricsWriter {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsWriter {
    /// A new file, or on resume the old one cut back to the rows up to `keep_until` (rows logged
    /// after the checkpoint are redone by the resumed run).
    pub fn open(path: &Path, keep_until: Option<u64>) -> std::io::Result<Self> {
        let kept: Vec<String> = match keep_until {
            Some(step) if path.exists() => std::fs::read_to_string(path)?
                .lines()
                .skip(1)
                .filter(|l| Row::from_csv(l).is_some_and(|r| r.step <= step))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let mut text = format!("{HEADER}\n");
        for line in kept {
            text.push_str(&line);
            text.push('\n');
        }
        lepton_sim::atomic::write(path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Self { path: path.to_path_buf(), file })
    }

    pub fn write(&mut self, row: &Row) -> std::io::Result<()> {
        writeln!(self.file, "{}", row.to_csv())?;
        self.file.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every row of a metrics file.
pub fn read(path: &Path) -> std::io::Result<Vec<Row>> {
    Ok(std::fs::read_to_string(path)?.lines().skip(1).filter_map(Row::from_csv).collect())
}
