//! The known sink id closest to a misspelled one, to name in the warning.

/// The id of `known` with the smallest edit distance to `id` (the first
/// such in `known`'s order on a tie); `None` when `known` is empty.
pub(crate) fn nearest<'k>(id: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .min_by_key(|candidate| edit_distance(id, candidate))
}

/// Levenshtein distance over chars: insertions, deletions, substitutions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the table at a time: `row[j]` is the distance between
    // the prefix of `a` read so far and `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_single_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("sqlx.query", "sqlx.query"), 0);
        assert_eq!(edit_distance("sqlx.qeury", "sqlx.query"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_nearest_known_id_is_named() {
        let known = ["http.header.value", "fixture.db.execute", "sqlx.query"];
        assert_eq!(
            nearest("fixture.db.exectue", known),
            Some("fixture.db.execute")
        );
        assert_eq!(nearest("sqlx.querry", known), Some("sqlx.query"));
        assert_eq!(nearest("anything", []), None);
    }
}
