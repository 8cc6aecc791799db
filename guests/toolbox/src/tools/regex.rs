//! A small POSIX regular-expression engine for grep and awk: basic (BRE) and extended (ERE) syntax,
//! compiled to an NFA and run breadth-first (a Pike machine), so matching is linear in the text and finds
//! the leftmost-longest match as POSIX asks. No back-references.

/// Which syntax a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// grep's default: `\( \) \{ \} \|`, `*` postfix, `\+ \?` as GNU extensions.
    Basic,
    /// `grep -E`: `( ) { } | + ?`.
    Extended,
    /// awk: extended, plus awk's escapes (`\/`, `\"`) and escapes inside brackets.
    Awk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assert {
    Start,
    End,
    WordBoundary,
    NotWordBoundary,
    WordStart,
    WordEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Alpha,
    Digit,
    Alnum,
    Upper,
    Lower,
    Space,
    Blank,
    Punct,
    Print,
    Graph,
    Cntrl,
    Xdigit,
    Word,
}

impl Named {
    fn matches(self, c: char) -> bool {
        match self {
            Named::Alpha => c.is_alphabetic(),
            Named::Digit => c.is_ascii_digit(),
            Named::Alnum => c.is_alphanumeric(),
            Named::Upper => c.is_uppercase(),
            Named::Lower => c.is_lowercase(),
            Named::Space => c.is_whitespace(),
            Named::Blank => c == ' ' || c == '\t',
            Named::Punct => c.is_ascii_punctuation(),
            Named::Print => !c.is_control(),
            Named::Graph => !c.is_control() && !c.is_whitespace(),
            Named::Cntrl => c.is_control(),
            Named::Xdigit => c.is_ascii_hexdigit(),
            Named::Word => c.is_alphanumeric() || c == '_',
        }
    }

    fn from_name(name: &str) -> Option<Named> {
        Some(match name {
            "alpha" => Named::Alpha,
            "digit" => Named::Digit,
            "alnum" => Named::Alnum,
            "upper" => Named::Upper,
            "lower" => Named::Lower,
            "space" => Named::Space,
            "blank" => Named::Blank,
            "punct" => Named::Punct,
            "print" => Named::Print,
            "graph" => Named::Graph,
            "cntrl" => Named::Cntrl,
            "xdigit" => Named::Xdigit,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
struct Class {
    ranges: Vec<(char, char)>,
    named: Vec<Named>,
    negated: bool,
}

impl Class {
    fn matches(&self, c: char, icase: bool) -> bool {
        let test = |c: char| {
            self.ranges.iter().any(|&(a, b)| a <= c && c <= b)
                || self.named.iter().any(|n| n.matches(c))
        };
        let mut hit = test(c);
        if !hit && icase {
            hit = c.to_lowercase().any(test) || c.to_uppercase().any(test);
        }
        hit != self.negated
    }
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(usize),
    Assert(Assert),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

#[derive(Debug, Clone, Copy)]
enum Inst {
    Char(char),
    Any,
    Class(usize),
    Split(usize, usize),
    Jmp(usize),
    Assert(Assert),
    Match,
}

/// A compiled regular expression.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    icase: bool,
    anchored: bool,
}

const MAX_PROGRAM: usize = 50_000;

impl Regex {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// The pattern is malformed (GNU's wording).
    pub(crate) fn new(pattern: &str, syntax: Syntax, icase: bool) -> Result<Regex, String> {
        let mut p = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
            syntax,
            classes: Vec::new(),
            depth: 0,
        };
        let node = p.alternation()?;
        if p.pos < p.chars.len() {
            return Err("Unmatched ) or \\)".to_string());
        }
        let anchored = starts_anchored(&node);
        let mut prog = Vec::new();
        compile(&node, &mut prog, icase)?;
        prog.push(Inst::Match);
        Ok(Regex {
            prog,
            classes: p.classes,
            icase,
            anchored,
        })
    }

    /// A regex matching `text` literally.
    pub(crate) fn literal(text: &str, icase: bool) -> Regex {
        let mut prog: Vec<Inst> = text
            .chars()
            .map(|c| Inst::Char(if icase { fold(c) } else { c }))
            .collect();
        prog.push(Inst::Match);
        Regex {
            prog,
            classes: Vec::new(),
            icase,
            anchored: false,
        }
    }

    /// Whether the regex matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.find_at(&chars, 0).is_some()
    }

    /// The leftmost-longest match starting at or after `from`, as char indices `(start, end)`.
    pub(crate) fn find_at(&self, text: &[char], from: usize) -> Option<(usize, usize)> {
        let n = self.prog.len();
        let mut mark = vec![0usize; n];
        let mut generation = 1usize;
        let mut clist: Vec<(usize, usize)> = Vec::new();
        let mut nlist: Vec<(usize, usize)> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut best: Option<(usize, usize)> = None;
        let mut pos = from;
        if from > text.len() {
            return None;
        }
        loop {
            if best.is_none() && (!self.anchored || pos == 0) {
                self.add(
                    &mut clist, &mut mark, generation, &mut stack, 0, pos, pos, text,
                );
            }
            for &(pc, start) in &clist {
                if matches!(self.prog[pc], Inst::Match) {
                    let better = match best {
                        None => true,
                        Some((bs, be)) => start < bs || (start == bs && pos > be),
                    };
                    if better {
                        best = Some((start, pos));
                    }
                }
            }
            if pos >= text.len() {
                break;
            }
            let c = text[pos];
            let folded = if self.icase { fold(c) } else { c };
            generation += 1;
            nlist.clear();
            for &(pc, start) in &clist {
                if let Some((bs, _)) = best
                    && start > bs
                {
                    continue;
                }
                let ok = match self.prog[pc] {
                    Inst::Char(x) => x == folded,
                    Inst::Any => true,
                    Inst::Class(k) => self.classes[k].matches(c, self.icase),
                    _ => false,
                };
                if ok {
                    self.add(
                        &mut nlist,
                        &mut mark,
                        generation,
                        &mut stack,
                        pc + 1,
                        start,
                        pos + 1,
                        text,
                    );
                }
            }
            std::mem::swap(&mut clist, &mut nlist);
            pos += 1;
            if clist.is_empty() && (best.is_some() || (self.anchored && pos > 0)) {
                break;
            }
        }
        best
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        list: &mut Vec<(usize, usize)>,
        mark: &mut [usize],
        generation: usize,
        stack: &mut Vec<usize>,
        pc: usize,
        start: usize,
        pos: usize,
        text: &[char],
    ) {
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if mark[pc] == generation {
                continue;
            }
            mark[pc] = generation;
            match self.prog[pc] {
                Inst::Jmp(t) => stack.push(t),
                Inst::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Inst::Assert(a) => {
                    if check(a, text, pos) {
                        stack.push(pc + 1);
                    }
                }
                _ => list.push((pc, start)),
            }
        }
    }
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn check(a: Assert, text: &[char], pos: usize) -> bool {
    let before = pos > 0 && is_word(text[pos - 1]);
    let after = pos < text.len() && is_word(text[pos]);
    match a {
        Assert::Start => pos == 0,
        Assert::End => pos == text.len(),
        Assert::WordBoundary => before != after,
        Assert::NotWordBoundary => before == after,
        Assert::WordStart => !before && after,
        Assert::WordEnd => before && !after,
    }
}

fn starts_anchored(node: &Node) -> bool {
    match node {
        Node::Assert(Assert::Start) => true,
        Node::Concat(items) => items.first().is_some_and(starts_anchored),
        Node::Alt(items) => !items.is_empty() && items.iter().all(starts_anchored),
        _ => false,
    }
}

fn compile(node: &Node, prog: &mut Vec<Inst>, icase: bool) -> Result<(), String> {
    if prog.len() > MAX_PROGRAM {
        return Err("Regular expression too big".to_string());
    }
    match node {
        Node::Empty => {}
        Node::Char(c) => prog.push(Inst::Char(if icase { fold(*c) } else { *c })),
        Node::Any => prog.push(Inst::Any),
        Node::Class(k) => prog.push(Inst::Class(*k)),
        Node::Assert(a) => prog.push(Inst::Assert(*a)),
        Node::Concat(items) => {
            for item in items {
                compile(item, prog, icase)?;
            }
        }
        Node::Alt(items) => {
            let mut jumps = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i + 1 < items.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(item, prog, icase)?;
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                } else {
                    compile(item, prog, icase)?;
                }
            }
            let end = prog.len();
            for j in jumps {
                prog[j] = Inst::Jmp(end);
            }
        }
        Node::Repeat(inner, min, max) => {
            for _ in 0..*min {
                compile(inner, prog, icase)?;
            }
            match max {
                None => {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(inner, prog, icase)?;
                    prog.push(Inst::Jmp(split));
                    let end = prog.len();
                    prog[split] = Inst::Split(split + 1, end);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(prog.len());
                        prog.push(Inst::Split(0, 0));
                        compile(inner, prog, icase)?;
                    }
                    let end = prog.len();
                    for s in splits {
                        prog[s] = Inst::Split(s + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    syntax: Syntax,
    classes: Vec<Class>,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek2(&self) -> Option<char> {
        self.chars.get(self.pos + 1).copied()
    }

    fn basic(&self) -> bool {
        self.syntax == Syntax::Basic
    }

    fn at_alt(&self) -> bool {
        if self.basic() {
            self.peek() == Some('\\') && self.peek2() == Some('|')
        } else {
            self.peek() == Some('|')
        }
    }

    fn at_close(&self) -> bool {
        if self.basic() {
            self.depth > 0 && self.peek() == Some('\\') && self.peek2() == Some(')')
        } else {
            self.depth > 0 && self.peek() == Some(')')
        }
    }

    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concat()?];
        while self.at_alt() {
            self.pos += if self.basic() { 2 } else { 1 };
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut items: Vec<Node> = Vec::new();
        let begin = self.pos;
        while self.peek().is_some() && !self.at_alt() && !self.at_close() {
            let at_start = self.pos == begin;
            let c = self.peek().unwrap_or('\0');
            // A leading `*` is literal.
            if at_start && c == '*' {
                self.pos += 1;
                items.push(Node::Char('*'));
                continue;
            }
            let atom = self.atom(at_start)?;
            let atom = self.postfix(atom)?;
            items.push(atom);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Node::Empty)
        } else if items.is_empty() {
            Node::Empty
        } else {
            Node::Concat(items)
        })
    }

    fn postfix(&mut self, mut atom: Node) -> Result<Node, String> {
        let mut nested = 0;
        while let Some(c) = self.peek() {
            let (min, max, len) = match c {
                '*' => (0, None, 1),
                '+' if !self.basic() => (1, None, 1),
                '?' if !self.basic() => (0, Some(1), 1),
                '\\' if self.basic() && self.peek2() == Some('+') => (1, None, 2),
                '\\' if self.basic() && self.peek2() == Some('?') => (0, Some(1), 2),
                '\\' if self.basic() && self.peek2() == Some('{') => {
                    self.pos += 2;
                    let (min, max) = self.interval()?.ok_or("Invalid content of \\{\\}")?;
                    nested += 1;
                    if nested > 8 {
                        return Err("Regular expression too big".to_string());
                    }
                    atom = Node::Repeat(Box::new(atom), min, max);
                    continue;
                }
                '{' if !self.basic() => {
                    let save = self.pos;
                    self.pos += 1;
                    match self.interval()? {
                        Some((min, max)) => {
                            nested += 1;
                            if nested > 8 {
                                return Err("Regular expression too big".to_string());
                            }
                            atom = Node::Repeat(Box::new(atom), min, max);
                            continue;
                        }
                        None => {
                            self.pos = save;
                            break;
                        }
                    }
                }
                _ => break,
            };
            self.pos += len;
            if matches!(atom, Node::Assert(_) | Node::Repeat(_, 0, None)) {
                // `^*` repeats nothing; `a**`, `a*+` and `a*?` are `a*`.
                continue;
            }
            nested += 1;
            if nested > 8 {
                return Err("Regular expression too big".to_string());
            }
            atom = Node::Repeat(Box::new(atom), min, max);
        }
        Ok(atom)
    }

    /// Reads `m}`, `m,}`, `m,n}` (`\}` in BRE) after the opening brace. `None` (ERE) when it is no interval.
    fn interval(&mut self) -> Result<Option<(u32, Option<u32>)>, String> {
        let number = |p: &mut Parser| -> Option<u32> {
            let start = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            if p.pos == start {
                None
            } else {
                p.chars[start..p.pos]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .ok()
            }
        };
        let min = number(self);
        let mut max = min;
        if self.peek() == Some(',') {
            self.pos += 1;
            max = number(self);
        }
        let closed = if self.basic() {
            if self.peek() == Some('\\') && self.peek2() == Some('}') {
                self.pos += 2;
                true
            } else {
                false
            }
        } else if self.peek() == Some('}') {
            self.pos += 1;
            true
        } else {
            false
        };
        if !closed {
            return if self.basic() {
                Err("Unmatched \\{".to_string())
            } else {
                Ok(None)
            };
        }
        let Some(min) = min.or(if max.is_some() { Some(0) } else { None }) else {
            return if self.basic() {
                Err("Invalid content of \\{\\}".to_string())
            } else {
                Ok(None)
            };
        };
        if let Some(m) = max
            && (m < min || m > 1000)
        {
            return Err("Invalid content of \\{\\}".to_string());
        }
        if min > 1000 {
            return Err("Regular expression too big".to_string());
        }
        Ok(Some((min, max)))
    }

    fn atom(&mut self, at_start: bool) -> Result<Node, String> {
        let c = self.peek().unwrap_or('\0');
        self.pos += 1;
        match c {
            '.' => Ok(Node::Any),
            '[' => self.bracket(),
            '^' if !self.basic() || at_start => Ok(Node::Assert(Assert::Start)),
            '$' if !self.basic() || self.at_end_of_branch() => Ok(Node::Assert(Assert::End)),
            '(' if !self.basic() => self.group(),
            '\\' => {
                let Some(e) = self.peek() else {
                    return Err("Trailing backslash".to_string());
                };
                self.pos += 1;
                match e {
                    '(' if self.basic() => self.group(),
                    'w' => Ok(self.named_class(Named::Word, false)),
                    'W' => Ok(self.named_class(Named::Word, true)),
                    's' => Ok(self.named_class(Named::Space, false)),
                    'S' => Ok(self.named_class(Named::Space, true)),
                    'b' if self.syntax != Syntax::Awk => Ok(Node::Assert(Assert::WordBoundary)),
                    'y' if self.syntax == Syntax::Awk => Ok(Node::Assert(Assert::WordBoundary)),
                    'B' => Ok(Node::Assert(Assert::NotWordBoundary)),
                    '<' => Ok(Node::Assert(Assert::WordStart)),
                    '>' => Ok(Node::Assert(Assert::WordEnd)),
                    '1'..='9' if self.syntax != Syntax::Awk => {
                        Err("back-references are not supported by skiff's toolbox".to_string())
                    }
                    other => Ok(Node::Char(self.escape_char(other))),
                }
            }
            other => Ok(Node::Char(other)),
        }
    }

    fn escape_char(&mut self, e: char) -> char {
        if self.syntax != Syntax::Awk {
            return match e {
                'n' => '\n',
                't' => '\t',
                other => other,
            };
        }
        match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            'a' => '\x07',
            'b' => '\x08',
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                    v = v * 8 + self.peek().and_then(|c| c.to_digit(8)).unwrap_or(0);
                    self.pos += 1;
                    n += 1;
                }
                char::from_u32(v).unwrap_or('\0')
            }
            other => other,
        }
    }

    fn at_end_of_branch(&self) -> bool {
        match self.peek() {
            None => true,
            Some('\\') => matches!(self.peek2(), Some(')' | '|')),
            _ => false,
        }
    }

    fn group(&mut self) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > 100 {
            return Err("Regular expression nested too deeply".to_string());
        }
        let inner = self.alternation()?;
        self.depth -= 1;
        let closed = if self.basic() {
            self.peek() == Some('\\') && self.peek2() == Some(')')
        } else {
            self.peek() == Some(')')
        };
        if !closed {
            return Err("Unmatched ( or \\(".to_string());
        }
        self.pos += if self.basic() { 2 } else { 1 };
        Ok(inner)
    }

    fn named_class(&mut self, named: Named, negated: bool) -> Node {
        self.classes.push(Class {
            ranges: Vec::new(),
            named: vec![named],
            negated,
        });
        Node::Class(self.classes.len() - 1)
    }

    fn bracket(&mut self) -> Result<Node, String> {
        let unmatched = || "Unmatched [, [^, [:, [., or [=".to_string();
        let mut class = Class {
            ranges: Vec::new(),
            named: Vec::new(),
            negated: false,
        };
        if self.peek() == Some('^') {
            class.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(unmatched());
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = if c == '[' && matches!(self.peek(), Some(':' | '.' | '=')) {
                let kind = self.peek().unwrap_or(':');
                self.pos += 1;
                let start = self.pos;
                while self.pos + 1 < self.chars.len()
                    && !(self.chars[self.pos] == kind && self.chars[self.pos + 1] == ']')
                {
                    self.pos += 1;
                }
                if self.pos + 1 >= self.chars.len() {
                    return Err(unmatched());
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                self.pos += 2;
                if kind == ':' {
                    let named = Named::from_name(&name).ok_or("Invalid character class name")?;
                    class.named.push(named);
                    continue;
                }
                name.chars().next().unwrap_or(' ')
            } else if c == '\\' && self.syntax == Syntax::Awk {
                let Some(e) = self.peek() else {
                    return Err(unmatched());
                };
                self.pos += 1;
                self.escape_char(e)
            } else {
                c
            };
            if self.peek() == Some('-') && self.peek2().is_some_and(|c| c != ']') {
                self.pos += 1;
                let mut hi = self.peek().unwrap_or(lo);
                self.pos += 1;
                if hi == '\\' && self.syntax == Syntax::Awk {
                    let e = self.peek().unwrap_or('\\');
                    self.pos += 1;
                    hi = self.escape_char(e);
                } else if hi == '[' && self.peek() == Some('.') {
                    self.pos += 1;
                    hi = self.peek().unwrap_or(lo);
                    self.pos += 3;
                }
                if hi < lo {
                    return Err("Invalid range end".to_string());
                }
                class.ranges.push((lo, hi));
            } else {
                class.ranges.push((lo, lo));
            }
        }
        self.classes.push(class);
        Ok(Node::Class(self.classes.len() - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(p: &str, syntax: Syntax, text: &str) -> Option<(usize, usize)> {
        let re = Regex::new(p, syntax, false).unwrap();
        let chars: Vec<char> = text.chars().collect();
        re.find_at(&chars, 0)
    }

    #[test]
    fn leftmost_longest() {
        assert_eq!(find("a|ab", Syntax::Extended, "xab"), Some((1, 3)));
        assert_eq!(find("a*", Syntax::Extended, "baaa"), Some((0, 0)));
        assert_eq!(find("a+", Syntax::Extended, "baaa"), Some((1, 4)));
        assert_eq!(
            find("(ab){2,3}", Syntax::Extended, "abababab"),
            Some((0, 6))
        );
        assert_eq!(
            find("\\(ab\\)\\{2\\}", Syntax::Basic, "xabab"),
            Some((1, 5))
        );
        assert_eq!(find("^a", Syntax::Extended, "ba"), None);
        assert_eq!(find("a$", Syntax::Basic, "ba"), Some((1, 2)));
        assert_eq!(find("a$b", Syntax::Basic, "a$b"), Some((0, 3)));
        assert_eq!(
            find("[[:digit:]]+", Syntax::Extended, "ab123c"),
            Some((2, 5))
        );
        assert_eq!(find("[^a-c]", Syntax::Extended, "abcd"), Some((3, 4)));
        assert_eq!(find("a{x", Syntax::Extended, "a{x"), Some((0, 3)));
        assert_eq!(find("x*", Syntax::Basic, "*"), Some((0, 0)));
        assert_eq!(find("*a", Syntax::Basic, "*a"), Some((0, 2)));
        assert_eq!(find("\\<foo\\>", Syntax::Basic, "a foo b"), Some((2, 5)));
        assert_eq!(find("[]a]+", Syntax::Extended, "x]a]"), Some((1, 4)));
        assert_eq!(
            find(
                "(a*)*b",
                Syntax::Extended,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac"
            ),
            None
        );
    }

    #[test]
    fn errors() {
        assert!(Regex::new("(ab", Syntax::Extended, false).is_err());
        assert!(Regex::new("[ab", Syntax::Extended, false).is_err());
        assert!(Regex::new("a\\{1", Syntax::Basic, false).is_err());
        assert!(Regex::new("[[:nope:]]", Syntax::Extended, false).is_err());
    }

    #[test]
    fn case_insensitive() {
        let re = Regex::new("hello [a-c]", Syntax::Basic, true).unwrap();
        assert!(re.is_match("say HELLO B"));
    }
}
