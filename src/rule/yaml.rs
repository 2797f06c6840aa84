//! A YAML document as a small tree whose nodes remember where they start
//! (byte offset, line, column), built from `yaml-rust2`'s marked events.
//!
//! Rule files and exclusion files are read through this so every error can
//! name `file:line:col`. This is the only module that talks to the YAML
//! crate; it knows nothing about rules or exclusions.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts: byte offset into the text, 1-based line and column
/// (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    pub offset: usize,
    pub line: usize,
    pub col: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Scalar(String, ScalarStyle),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// `*anchor`: we do not resolve aliases (rule and exclusion files have
    /// no use for them); consumers report them as unsupported.
    Alias,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub mark: Mark,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// A plain `~`/`null`/empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s, ScalarStyle::Plain) if s.is_empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(..) => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Alias => "an alias",
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub mark: Mark,
    pub message: String,
}

fn mark_of(text: &str, m: Marker) -> Mark {
    // yaml-rust2 reports a byte index; keep it inside the text and on a
    // char boundary whatever happens.
    let mut offset = m.index().min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let col = text
        .get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1;
    let line = text
        .get(..offset)
        .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count())
        + 1;
    Mark { offset, line, col }
}

struct Builder<'a> {
    text: &'a str,
    /// Open collections with a pending mapping key.
    stack: Vec<(Node, Option<Node>)>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((parent, pending)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending = Some(node),
                },
                NodeKind::Scalar(..) | NodeKind::Alias => {}
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, m: Marker) {
        let mark = mark_of(self.text, m);
        match ev {
            Event::Scalar(value, style, _, _) => {
                let style = match style {
                    TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    TScalarStyle::Literal => ScalarStyle::Literal,
                    TScalarStyle::Folded => ScalarStyle::Folded,
                    TScalarStyle::Plain => ScalarStyle::Plain,
                };
                self.attach(Node {
                    kind: NodeKind::Scalar(value, style),
                    mark,
                });
            }
            Event::SequenceStart(..) => self.stack.push((
                Node {
                    kind: NodeKind::Seq(Vec::new()),
                    mark,
                },
                None,
            )),
            Event::MappingStart(..) => self.stack.push((
                Node {
                    kind: NodeKind::Map(Vec::new()),
                    mark,
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.attach(node);
                }
            }
            Event::Alias(_) => self.attach(Node {
                kind: NodeKind::Alias,
                mark,
            }),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// Parses the first document of `text`. `Ok(None)` for an empty document.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder {
        text,
        stack: Vec::new(),
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    match parser.load(&mut builder, false) {
        Ok(()) => Ok(builder.root),
        Err(e) => Err(YamlError {
            mark: mark_of(text, *e.marker()),
            message: e.info().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_point_at_scalars() {
        let text = "a: 1\r\nb:\r\n  - x\r\n  - 'y'\r\nq: |\r\n  line\r\n";
        let root = parse(text).ok().flatten().map(|n| n.kind);
        let Some(NodeKind::Map(entries)) = root else {
            panic!("not a map: {text:?}");
        };
        let marks: Vec<(usize, usize, usize)> = entries
            .iter()
            .map(|(k, v)| (k.mark.line, v.mark.line, v.mark.col))
            .collect();
        assert_eq!(marks, vec![(1, 1, 4), (2, 3, 3), (5, 6, 3)]);
        let (_, q) = &entries[2];
        assert_eq!(q.as_str(), Some("line\n"));
        assert_eq!(text.get(q.mark.offset..q.mark.offset + 4), Some("line"));
    }

    #[test]
    fn errors_carry_a_position() {
        let text = "id: %%GUID%%\nname: x\n";
        let err = parse(text).err();
        assert_eq!(
            err.map(|e| (e.mark.line, e.mark.col)),
            Some((1, 5)),
            "{text:?}"
        );
    }
}
