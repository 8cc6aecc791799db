//! Example skiff component: word counts over a text artifact.
//!
//! Input artifact `text`, optional input artifact `stopwords` (words to leave out, separated by
//! whitespace), optional input parameter `top` (how many of the most frequent words to return; 10
//! when not given). Writes every word with its count, most frequent first, as the
//! tab-separated output artifact `counts`, and returns `words` (total), `distinct`, and `top`
//! (a JSON list of `[word, count]` pairs). Words are runs of letters, digits and apostrophes,
//! lower-cased.

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};

use skiff_guest::{BoxError, InputArtifact, Json, OutputArtifact, Outputs};

/// What the count found.
#[derive(Debug, Outputs)]
struct Counted {
    words: u64,
    distinct: u64,
    top: Json<Vec<(String, u64)>>,
}

/// Counts the words of `text` (but not the `stopwords`); writes them all to `counts` and returns
/// the `top` most frequent.
#[skiff_guest::component]
fn word_count(
    text: InputArtifact,
    stopwords: Option<InputArtifact>,
    top: Option<u32>,
    counts: OutputArtifact,
) -> Result<Counted, BoxError> {
    let skip = match stopwords {
        Some(list) => list
            .read_to_string()?
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
        None => HashSet::new(),
    };
    let mut ranked = rank(&text.read_to_string()?);
    ranked.retain(|(word, _)| !skip.contains(word));
    let mut out = BufWriter::new(counts.create()?);
    for (word, n) in &ranked {
        writeln!(out, "{word}\t{n}")?;
    }
    out.flush()?;
    let words = ranked.iter().map(|(_, n)| n).sum();
    let distinct = ranked.len() as u64;
    let top = ranked
        .into_iter()
        .take(top.unwrap_or(10) as usize)
        .collect();
    Ok(Counted {
        words,
        distinct,
        top: Json(top),
    })
}

/// Every word with its count: most frequent first, ties in alphabetical order.
fn rank(text: &str) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_default() += 1;
    }
    let mut ranked: Vec<_> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_count_then_word() {
        let ranked = rank("The cat saw the dog. 'The' dog's bowl; THE end");
        assert_eq!(ranked[0], ("the".to_owned(), 4));
        assert_eq!(ranked[1], ("bowl".to_owned(), 1));
        assert!(ranked.contains(&("dog's".to_owned(), 1)));
    }

    #[test]
    fn writes_the_counts_artifact() {
        let dir = std::env::temp_dir().join(format!("word-count-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("in.txt"), "b a b").unwrap();
        let counted = word_count(
            InputArtifact::at(dir.join("in.txt")),
            None,
            Some(1),
            OutputArtifact::at(dir.join("counts.tsv")),
        )
        .unwrap();
        assert_eq!((counted.words, counted.distinct), (3, 2));
        assert_eq!(counted.top.0, [("b".to_owned(), 2)]);
        let tsv = std::fs::read_to_string(dir.join("counts.tsv")).unwrap();
        assert_eq!(tsv, "b\t2\na\t1\n");

        std::fs::write(dir.join("stop.txt"), "B\n").unwrap();
        let counted = word_count(
            InputArtifact::at(dir.join("in.txt")),
            Some(InputArtifact::at(dir.join("stop.txt"))),
            None,
            OutputArtifact::at(dir.join("counts.tsv")),
        )
        .unwrap();
        assert_eq!((counted.words, counted.distinct), (1, 1));
        assert_eq!(counted.top.0, [("a".to_owned(), 1)]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
