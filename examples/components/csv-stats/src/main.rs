//! Example skiff component: statistics of one numeric column of a CSV artifact.
//!
//! Input artifact `table` (CSV with a header row; fields may be quoted, as RFC 4180 writes them),
//! input parameter `column` (the header of the column to measure). Outputs `count`, `mean`,
//! `min`, `max` and `stddev` (the population standard deviation), and the same numbers as metrics.
//! Empty cells are skipped; a cell that is not a number fails the step with its row and column.

use skiff_guest::{BoxError, InputArtifact, Metrics, Outputs};

/// The statistics: one output parameter per field.
#[derive(Debug, PartialEq, Outputs)]
struct ColumnStats {
    count: u64,
    mean: f64,
    min: f64,
    max: f64,
    stddev: f64,
}

/// Statistics of the numeric column `column` of the CSV file `table`.
#[skiff_guest::component]
fn csv_stats(
    table: InputArtifact,
    column: String,
    mut metrics: Metrics,
) -> Result<ColumnStats, BoxError> {
    let text = table.read_to_string()?;
    let stats = column_stats(&text, &column)?;
    metrics.log("count", stats.count as f64)?;
    metrics.log("mean", stats.mean)?;
    metrics.log("stddev", stats.stddev)?;
    Ok(stats)
}

fn column_stats(text: &str, column: &str) -> Result<ColumnStats, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = rows.next().ok_or("the table is empty: no header row")?;
    let names = split_record(header);
    let index = names
        .iter()
        .position(|name| name.trim() == column)
        .ok_or_else(|| {
            format!(
                "no column `{column}` in the header (columns: {})",
                names.join(", ")
            )
        })?;
    let (mut count, mut sum, mut sum_sq) = (0u64, 0.0f64, 0.0f64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (line, row) in rows {
        let fields = split_record(row);
        let cell = fields.get(index).map(|f| f.trim()).unwrap_or("");
        if cell.is_empty() {
            continue;
        }
        let value: f64 = cell.parse().map_err(|_| {
            format!(
                "row {}, column `{column}`: {cell:?} is not a number",
                line + 1
            )
        })?;
        count += 1;
        sum += value;
        sum_sq += value * value;
        min = min.min(value);
        max = max.max(value);
    }
    if count == 0 {
        return Err(format!("column `{column}` has no numbers"));
    }
    let mean = sum / count as f64;
    let variance = (sum_sq / count as f64 - mean * mean).max(0.0);
    Ok(ColumnStats {
        count,
        mean,
        min,
        max,
        stddev: variance.sqrt(),
    })
}

/// The fields of one CSV record: commas separate, double quotes enclose, `""` is a quote.
fn split_record(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_column_and_skips_empty_cells() {
        let csv = "city,\"temp, C\",note\nA,1,x\nB,,y\nC,3,\"a, \"\"b\"\"\"\n";
        let stats = column_stats(csv, "temp, C").unwrap();
        assert_eq!(stats.count, 2);
        assert_eq!(stats.mean, 2.0);
        assert_eq!((stats.min, stats.max, stats.stddev), (1.0, 3.0, 1.0));
    }

    #[test]
    fn names_the_bad_cell_and_the_missing_column() {
        let err = column_stats("a\n1\nzz\n", "a").unwrap_err();
        assert_eq!(err, "row 3, column `a`: \"zz\" is not a number");
        let err = column_stats("a,b\n1,2\n", "c").unwrap_err();
        assert!(err.contains("columns: a, b"), "{err}");
    }

    #[test]
    fn quoted_fields_keep_commas_and_quotes() {
        assert_eq!(
            split_record(r#"1,"a,b","say ""hi""""#),
            ["1", "a,b", "say \"hi\""]
        );
    }
}
