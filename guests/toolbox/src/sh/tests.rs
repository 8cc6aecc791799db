//! Scripts run through `sh`, natively, against a temporary root folder.

use crate::{Io, Sys};
use std::path::Path;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run_in(root: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut sys = Sys::with_root(root);
    let mut input = stdin;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let code = {
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        };
        crate::run("sh", &args, &mut sys, &mut io).expect("sh is a tool")
    };
    Run {
        code,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("tmp")).expect("mkdir tmp");
    dir
}

fn sh(script: &str) -> Run {
    let dir = root();
    run_in(dir.path(), &["-c", script], b"")
}

fn out(script: &str) -> String {
    let r = sh(script);
    assert_eq!(r.err, "", "stderr of {script:?}");
    r.out
}

#[test]
fn argo_examples() {
    assert_eq!(out("echo $((7/2))"), "3\n");
    let r = sh("echo intentional failure; exit 1");
    assert_eq!((r.code, r.out.as_str()), (1, "intentional failure\n"));
    assert_eq!(sh("exit 0").code, 0);
    assert_eq!(out("echo \"it was heads\""), "it was heads\n");
    assert_eq!(
        out(r#"echo send e-mail: wf Failed 1.2s. Failed steps [{"a":"b"}]"#),
        "send e-mail: wf Failed 1.2s. Failed steps [{a:b}]\n"
    );
    assert_eq!(out(r#"echo "$(echo "a b")""#), "a b\n");
    assert_eq!(
        out(r#"echo "$(dirname_ () { echo "${1%/*}"; }; dirname_ "/tmp/a/b")""#),
        "/tmp/a\n"
    );
}

#[test]
fn writes_files() {
    let dir = root();
    let r = run_in(
        dir.path(),
        &["-c", "echo -n hello world > /tmp/hello_world.txt"],
        b"",
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/hello_world.txt")).unwrap(),
        "hello world"
    );
    let r = run_in(
        dir.path(),
        &["-c", "echo a >> /tmp/h; echo b >>/tmp/h; cat < /tmp/h"],
        b"",
    );
    assert_eq!(r.out, "a\nb\n");
}

#[test]
fn even_odd_structure() {
    let dir = root();
    let script = "true &&\necho 4 > /tmp/num &&\ncase $(($(cat /tmp/num)%2)) in\n  0) echo \"even\" > /tmp/even;;\n  *) echo \"odd\" > /tmp/even;;\nesac\n";
    let r = run_in(dir.path(), &["-c", script], b"");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/even")).unwrap(),
        "even\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/num")).unwrap(),
        "4\n"
    );
}

#[test]
fn even_odd_with_test_tool() {
    let dir = root();
    let script = "sleep 1 &&\necho 4 > /tmp/num &&\nif [ $((4%2)) -eq 0 ]; then\n  echo \"even\" > /tmp/even;\nelse\n  echo \"odd\" > /tmp/even;\nfi\n";
    let r = run_in(dir.path(), &["-c", script], b"");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/even")).unwrap(),
        "even\n"
    );
}

#[test]
fn variables_and_quoting() {
    assert_eq!(out("A=1; B=2; C=3; echo \"$A$B$C\""), "123\n");
    assert_eq!(out("x='a  b'; echo $x; echo \"$x\""), "a b\na  b\n");
    assert_eq!(
        out(r#"echo 'single $x' "dq \"\$x\" \\ \`" \$x a\ b"#),
        "single $x dq \"$x\" \\ ` $x a b\n"
    );
    assert_eq!(out("echo a\\\nb"), "ab\n");
    assert_eq!(out("echo a # comment\n# whole line\necho b"), "a\nb\n");
    assert_eq!(out("echo ${10} $10"), "0\n");
    assert_eq!(out("set -- a b c d e f g h i j k; echo ${10} $#"), "j 11\n");
    assert_eq!(out("x=5; echo ${#x} ${x}y $xy."), "1 5y .\n");
    assert_eq!(out("echo $'a\\tb'"), "a\tb\n");
    assert_eq!(out("echo ''\"\" | cat; set -- '' x; echo $#"), "\n2\n");
}

#[test]
fn parameter_operators() {
    assert_eq!(
        out("echo ${x:-d} ${x-e} \"${x:+alt}\"; x=; echo ${x:-d} ${x-e}. ${x:+alt}."),
        "d e \nd . .\n"
    );
    assert_eq!(out("echo ${x:=set}; echo $x"), "set\nset\n");
    assert_eq!(out("x=v; echo ${x:+alt} ${x:-d}"), "alt v\n");
    let r = sh("echo ${x:?it is missing}; echo after");
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (2, "", "sh: line 1: x: it is missing\n")
    );
    assert_eq!(
        out("p=dir/sub/file.tar.gz; echo ${p#*/} ${p##*/} ${p%.*} ${p%%.*}"),
        "sub/file.tar.gz file.tar.gz dir/sub/file.tar dir/sub/file\n"
    );
    assert_eq!(out("p='a*b'; echo ${p#\"a*\"} ${p#a\\*}"), "b b\n");
    assert_eq!(
        out("s=hello; echo ${s/l/L} ${s//l/L} ${s:1:3} ${s: -2}"),
        "heLlo heLLo ell lo\n"
    );
    assert_eq!(
        out("set -- a 'b c'; for w in \"${@:-none}\"; do echo \"<$w>\"; done"),
        "<a>\n<b c>\n"
    );
}

#[test]
fn positional_parameters() {
    let dir = root();
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "echo $0 $# \"$1\"; for a in \"$@\"; do echo \"[$a]\"; done",
            "name",
            "x y",
            "z",
        ],
        b"",
    );
    assert_eq!(r.out, "name 2 x y\n[x y]\n[z]\n");
    assert_eq!(
        out("set -- 'a b' c; for a in $@; do echo $a; done"),
        "a\nb\nc\n"
    );
    assert_eq!(
        out("set -- 'a b' c; for a in \"$*\"; do echo $a; done"),
        "a b c\n"
    );
    assert_eq!(
        out("set -- a b c; shift; echo $@; shift 2; echo $#"),
        "b c\n0\n"
    );
    assert_eq!(
        out("set -- ; for a in \"$@\"; do echo x; done; echo \"$@\" | cat"),
        "\n"
    );
    assert_eq!(out("set -- a b; for x; do echo $x; done"), "a\nb\n");
}

#[test]
fn special_parameters() {
    assert_eq!(out("false; echo $?; true; echo $?"), "1\n0\n");
    let r = out("echo $$ $RANDOM $RANDOM");
    let nums: Vec<i64> = r.split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(nums.len(), 3);
    assert!(nums[1] < 32768 && nums[2] < 32768);
    assert_eq!(
        out("cd /tmp; echo $PWD; cd ..; echo $PWD $OLDPWD"),
        "/tmp\n/ /tmp\n"
    );
}

#[test]
fn arithmetic() {
    assert_eq!(
        out("echo $((1+2*3)) $(( (1+2)*3 )) $((2**10)) $((-7/2)) $((7%3)) $((1<<4))"),
        "7 9 1024 -3 1 16\n"
    );
    assert_eq!(
        out("x=5; echo $((x+1)) $(($x*2)) $((x>3 && x<10)) $((x==5 ? 10 : 20)) $((!x)) $((~0))"),
        "6 10 1 10 0 -1\n"
    );
    assert_eq!(
        out("x=1; : $((x+=4)); echo $x; echo $((y=3)) $y; echo $((0x10 + 010))"),
        "5\n3 3\n24\n"
    );
    assert_eq!(
        out("echo $((9223372036854775807 + 1))"),
        "-9223372036854775808\n"
    );
    assert_eq!(
        out("echo $(( 1 || 1/0 )) $((6&3)) $((6|3)) $((6^3)) $((3>=3))"),
        "1 2 7 5 1\n"
    );
    let r = sh("echo $((1/0)); echo after");
    assert_eq!((r.code, r.out.as_str()), (2, ""));
    assert!(r.err.contains("division by zero"), "{}", r.err);
    let r = sh("echo $((1 +))");
    assert_eq!(r.code, 2);
}

#[test]
fn here_documents() {
    assert_eq!(
        out("x=world\ncat <<EOF\nhello $x\n  \\$x `echo b`\nEOF\necho done"),
        "hello world\n  $x b\ndone\n"
    );
    assert_eq!(out("cat <<'EOF'\nhello $x\nEOF"), "hello $x\n");
    assert_eq!(out("cat <<-EOF\n\t\tindented\n\tEOF\n"), "indented\n");
    assert_eq!(out("cat <<A; cat <<B\na\nA\nb\nB\n"), "a\nb\n");
    assert_eq!(out("cat <<< 'here string'"), "here string\n");
    assert_eq!(
        out("while read l; do echo \"[$l]\"; done <<EOF\none\ntwo\nEOF"),
        "[one]\n[two]\n"
    );
}

#[test]
fn control_flow() {
    assert_eq!(out("for i in 1 2 3; do echo $i; done"), "1\n2\n3\n");
    assert_eq!(
        out("i=0; while [_ $i != _3 ] 2>/dev/null; do i=3; done; echo $i"),
        "0\n"
    );
    assert_eq!(
        out("i=0; while case $i in 3) false;; *) true;; esac; do i=$((i+1)); done; echo $i"),
        "3\n"
    );
    assert_eq!(
        out("i=0; until case $i in 2) true;; *) false;; esac; do i=$((i+1)); done; echo $i"),
        "2\n"
    );
    assert_eq!(
        out("if false; then echo a; elif true; then echo b; else echo c; fi"),
        "b\n"
    );
    assert_eq!(out("if false; then echo a; else echo c; fi"), "c\n");
    assert_eq!(
        out("for i in 1 2 3 4; do case $i in 2) continue;; 4) break;; esac; echo $i; done"),
        "1\n3\n"
    );
    assert_eq!(
        out("for i in a b; do for j in 1 2; do [_ 2>/dev/null; break 2; done; done; echo $i$j"),
        "a1\n"
    );
    assert_eq!(
        out("for i in a b; do for j in 1 2; do continue 2; echo no; done; done; echo $i$j"),
        "b1\n"
    );
    assert_eq!(
        out("case abc in a|x) echo no;; a*c) echo yes;; esac"),
        "yes\n"
    );
    assert_eq!(
        out("case '*' in \\*) echo star;; esac; case x in (x) echo paren;; esac"),
        "star\nparen\n"
    );
    assert_eq!(
        out(
            "x=b*; case bc in $x) echo glob;; esac; case bc in \"$x\") echo no;; *) echo lit;; esac"
        ),
        "glob\nlit\n"
    );
    assert_eq!(
        out("true && echo a || echo b; false && echo c || echo d; ! true || echo e"),
        "a\nd\ne\n"
    );
    assert_eq!(
        out("{ echo a; echo b; } | cat; (echo c; exit 3); echo $?"),
        "a\nb\nc\n3\n"
    );
}

#[test]
fn functions() {
    assert_eq!(
        out("f() { echo \"f:$1:$#\"; return 3; }; f a b; echo $?"),
        "f:a:2\n3\n"
    );
    assert_eq!(
        out("f() {\n  local x=inner\n  echo $x\n}\nx=outer; f; echo $x"),
        "inner\nouter\n"
    );
    assert_eq!(
        out("function g { echo g; }; g; g() ( echo sub; exit 4 ); g; echo $?"),
        "g\nsub\n4\n"
    );
    assert_eq!(
        out(
            "fact() { if case $1 in 0) true;; *) false;; esac; then echo 1; else echo $(( $1 * $(fact $(($1-1))) )); fi; }; fact 5"
        ),
        "120\n"
    );
    assert_eq!(
        out("f() { echo $0 $1; }; set -- outer; f inner; echo $1"),
        "sh inner\nouter\n"
    );
    assert_eq!(
        out("f() { echo \"[$A]\"; }; A=tmp f; echo \"[$A]\""),
        "[tmp]\n[]\n"
    );
}

#[test]
fn subshells_and_substitutions() {
    assert_eq!(out("x=1; (x=2; echo $x); echo $x"), "2\n1\n");
    assert_eq!(out("x=1; y=$(x=2; echo $x); echo $x $y"), "1 2\n");
    assert_eq!(out("echo `echo back \\`echo tick\\``"), "back tick\n");
    assert_eq!(
        out("x=$(printf_() { echo a; echo; echo; }; printf_); echo \"[$x]\""),
        "[a]\n"
    );
    assert_eq!(out("cd /tmp; (cd /; echo $PWD); echo $PWD"), "/\n/tmp\n");
    assert_eq!(out("x=$(false); echo $?; x=$(true); echo $?"), "1\n0\n");
    assert_eq!(out("echo $(echo $(echo $(echo deep)))"), "deep\n");
    assert_eq!(out("echo \"$(case x in x) echo paren;; esac)\""), "paren\n");
    assert_eq!(out("x=$(exit 5); echo $?; (exit 6) ; echo $?"), "5\n6\n");
}

#[test]
fn pipelines() {
    assert_eq!(out("echo hello | cat | cat"), "hello\n");
    assert_eq!(out("echo a | { read x; echo \"got $x\"; }"), "got a\n");
    assert_eq!(out("x=1; echo 2 | read x; echo $x"), "1\n");
    assert_eq!(
        out("false | true; echo $?; true | false; echo $?"),
        "0\n1\n"
    );
    assert_eq!(out("set -o pipefail; false | true; echo $?"), "1\n");
    assert_eq!(out("! false | false; echo $?"), "0\n");
    assert_eq!(out("yes | { read a; read b; echo $a$b; }"), "yy\n");
    assert_eq!(out("yes ok go | { read a; echo $a; }"), "ok go\n");
    assert_eq!(
        out("cat /dev/zero | { read -r a <&0 ; echo n; } </dev/null"),
        "n\n"
    );
    let dir = root();
    std::fs::write(dir.path().join("tmp/f"), "file\n").unwrap();
    let r = run_in(dir.path(), &["-c", "cat /tmp/f - /tmp/f | cat"], b"stdin\n");
    assert_eq!(r.out, "file\nstdin\nfile\n");
    let r = run_in(dir.path(), &["-c", "cat /tmp/nope | cat; echo $?"], b"");
    assert_eq!(
        (r.out.as_str(), r.err.as_str()),
        ("0\n", "cat: /tmp/nope: No such file or directory\n")
    );
    assert_eq!(
        out("cat /dev/urandom | { read -r x; echo read; }"),
        "read\n"
    );
}

#[test]
fn redirections() {
    let r = sh("echo err >&2; echo out 1>&2 2>/dev/null");
    assert_eq!((r.out.as_str(), r.err.as_str()), ("", "err\nout\n"));
    let r = sh("{ echo a; echo b >&2; } 2>&1 | cat");
    assert_eq!((r.out.as_str(), r.err.as_str()), ("a\nb\n", ""));
    let dir = root();
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "nope 2> /tmp/e; echo x &> /tmp/both; cat /tmp/e /tmp/both; echo y > /dev/stderr",
        ],
        b"",
    );
    assert_eq!(r.out, "sh: nope: command not found in skiff's toolbox\nx\n");
    assert_eq!(r.err, "y\n");
    let r = run_in(dir.path(), &["-c", "echo x > /no/such/dir/f; echo $?"], b"");
    assert_eq!(
        (r.out.as_str(), r.err.as_str()),
        (
            "1\n",
            "sh: can't create /no/such/dir/f: No such file or directory\n"
        )
    );
    let r = run_in(dir.path(), &["-c", "cat < /nope; echo $?"], b"");
    assert_eq!(
        (r.out.as_str(), r.err.as_str()),
        ("1\n", "sh: can't open /nope: No such file or directory\n")
    );
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "printf_() { echo l1; echo l2; }; printf_ > /tmp/lines; while read -r l; do echo \"<$l>\"; done < /tmp/lines",
        ],
        b"",
    );
    assert_eq!(r.out, "<l1>\n<l2>\n");
    let r = run_in(
        dir.path(),
        &["-c", "exec > /tmp/all; echo one; echo two; exec 2>&1; nope"],
        b"",
    );
    assert_eq!(r.out, "");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/all")).unwrap(),
        "one\ntwo\nsh: nope: command not found in skiff's toolbox\n"
    );
    let r = run_in(
        dir.path(),
        &["-c", "x=$(echo a; echo b >&2) 2>/dev/null; echo $x"],
        b"",
    );
    assert_eq!((r.out.as_str(), r.err.as_str()), ("a\n", "b\n"));
}

#[test]
fn read_builtin() {
    let dir = root();
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "read a b; echo \"[$a][$b]\"; read -r c; echo \"$c\"; read d; echo $? \"[$d]\"",
        ],
        b"  one two  three \nback\\slash\n",
    );
    assert_eq!(r.out, "[one][two  three]\nback\\slash\n1 []\n");
    let r = run_in(
        dir.path(),
        &["-c", "IFS=: read a b; echo $a-$b; read x; echo $x"],
        b"k:v:w\ntab\\ bed\n",
    );
    assert_eq!(r.out, "k-v:w\ntab bed\n");
    let r = run_in(dir.path(), &["-c", "read a; echo $? $a"], b"partial");
    assert_eq!(r.out, "1 partial\n");
}

#[test]
fn field_splitting_and_globbing() {
    assert_eq!(
        out("x='a:b::c'; IFS=:; for i in $x; do echo \"[$i]\"; done"),
        "[a]\n[b]\n[]\n[c]\n"
    );
    assert_eq!(out("x='  a   b  '; set -- $x; echo $#"), "2\n");
    assert_eq!(out("x=''; set -- $x \"$x\"; echo $#"), "1\n");
    let dir = root();
    for f in ["b.txt", "a.txt", "c.log", ".hidden.txt"] {
        std::fs::write(dir.path().join("tmp").join(f), "").unwrap();
    }
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "cd /tmp; echo *.txt; echo /tmp/?.log; echo '*.txt' \"*\" nomatch*; x='*.txt'; echo $x \"$x\"; set -f; echo *.txt",
        ],
        b"",
    );
    assert_eq!(
        r.out,
        "a.txt b.txt\n/tmp/c.log\n*.txt * nomatch*\na.txt b.txt *.txt\n*.txt\n"
    );
    let r = run_in(dir.path(), &["-c", "echo /t*/[ab].*; echo ~/x"], b"");
    assert_eq!(r.out, "/tmp/a.txt /tmp/b.txt\n//x\n");
}

#[test]
fn xtrace() {
    let r = sh("set -x\necho \"a b\" c\nx=$((1+1))\nA=1 true \"it's\"\nset +x\necho quiet");
    assert_eq!(r.out, "a b c\nquiet\n");
    assert_eq!(
        r.err,
        "+ echo 'a b' c\n+ x=2\n+ A=1 true 'it'\"'\"'s'\n+ set +x\n"
            .replace("'it'\"'\"'s'", "'it'\\''s'")
    );
    let dir = root();
    let r = run_in(dir.path(), &["-xc", "echo hi"], b"");
    assert_eq!((r.out.as_str(), r.err.as_str()), ("hi\n", "+ echo hi\n"));
}

#[test]
fn errexit() {
    let r = sh("set -e; echo a; false; echo b");
    assert_eq!((r.code, r.out.as_str()), (1, "a\n"));
    assert_eq!(
        out(
            "set -e; if false; then :; fi; false || true; ! true; false && true; while false; do :; done; echo ok"
        ),
        "ok\n"
    );
    let r = sh("set -e; f() { false; echo in-f; }; f || echo caught; f; echo never");
    assert_eq!((r.code, r.out.as_str()), (1, "in-f\n"));
    let r = sh("set -e; (false); echo never");
    assert_eq!((r.code, r.out.as_str()), (1, ""));
    let r = sh("set -e; true && false; echo never");
    assert_eq!(r.code, 1);
    let dir = root();
    let r = run_in(dir.path(), &["-ec", "nope; echo never"], b"");
    assert_eq!((r.code, r.out.as_str()), (127, ""));
    let r = sh("set -e; x=$(false); echo never");
    assert_eq!(r.code, 1);
}

#[test]
fn nounset() {
    let r = sh("set -u; echo ${x:-ok}; echo $x; echo never");
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (2, "ok\n", "sh: line 1: x: parameter not set\n")
    );
}

#[test]
fn errors() {
    let r = sh("echo start\nnope arg\necho $?");
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (
            0,
            "start\n127\n",
            "sh: nope: command not found in skiff's toolbox\n"
        )
    );
    let r = sh("echo never\nif true; then echo x\nfi fi");
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (2, "", "sh: line 3: syntax error: unexpected \"fi\"\n")
    );
    let r = sh("echo 'unterminated");
    assert_eq!((r.code, r.out.as_str()), (2, ""));
    assert!(r.err.contains("unterminated quoted string"), "{}", r.err);
    for bad in [
        "echo \"abc",
        "echo $(echo",
        "echo ${x",
        "echo `x",
        "if true; then",
        "case x in",
        "( echo",
        "{ echo; ",
        "f() echo",
        "a=(1 2)",
        "[[ -f x ]]",
        "cat <(ls)",
        "for ((;;)); do :; done",
        ")",
        "a | | b",
        "echo ${x!y}",
        "do",
        ";;",
    ] {
        let r = sh(bad);
        assert_eq!((r.code, r.out.as_str()), (2, ""), "{bad:?}");
        assert!(r.err.starts_with("sh: line "), "{bad:?}: {}", r.err);
    }
    let r = sh("[[ -f x ]]");
    assert_eq!(
        r.err,
        "sh: line 1: [[ ... ]] is not supported by skiff's toolbox shell\n"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}echo x{}", "( ".repeat(1000), " )".repeat(1000));
    let r = sh(&deep);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("nesting too deep"), "{}", r.err);
    let deep = format!("echo {}x{}", "$(echo ".repeat(500), ")".repeat(500));
    assert_eq!(sh(&deep).code, 2);
    let deep = format!("echo {}{}", "\"$(".repeat(300), ")\"".repeat(300));
    assert_eq!(sh(&deep).code, 2);
    let deep = format!("echo $(({}1{}))", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(sh(&deep).code, 2);
    let r = sh("f() { f; }; f; echo never");
    assert_eq!((r.code, r.out.as_str()), (2, ""));
    assert!(r.err.contains("nesting too deep"));
    let ok = format!("{}echo x{}", "( ".repeat(40), ")".repeat(40));
    assert_eq!(out(&ok), "x\n");
}

#[test]
fn large_scripts() {
    let script = "x=$((x+1))\n".repeat(20000) + "echo $x";
    assert_eq!(out(&script), "20000\n");
    let chain = vec!["true"; 5000].join(" && ") + " && echo chain";
    assert_eq!(out(&chain), "chain\n");
    let pipe = vec!["cat"; 300].join(" | ");
    let dir = root();
    assert_eq!(
        run_in(dir.path(), &["-c", &pipe], b"piped\n").out,
        "piped\n"
    );
}

#[test]
fn builtins() {
    assert_eq!(
        out("export A=1; B=2; export B; env_() { echo $A$B; }; env_"),
        "12\n"
    );
    assert_eq!(out("x=1; unset x; echo \"[${x-unset}]\""), "[unset]\n");
    assert_eq!(
        out("eval 'x=5; echo $x'; cmd='echo evaluated'; eval $cmd"),
        "5\nevaluated\n"
    );
    assert_eq!(out("readonly R=1; echo $R"), "1\n");
    let r = sh("readonly R=1; R=2; echo never");
    assert_eq!((r.code, r.out.as_str()), (2, ""));
    assert_eq!(
        out("type cd f echo 2>&1; f() { :; }; type f"),
        "cd is a shell builtin\nf: not found\necho is a tool of skiff's toolbox\nf is a shell function\n"
    );
    assert_eq!(
        out("command -v echo cd; command -v nope || echo missing"),
        "/bin/echo\ncd\nmissing\n"
    );
    assert_eq!(out("echo() { printf_; }; command echo real"), "real\n");
    assert_eq!(
        out("wait; umask; ulimit -n; : ignored; echo $?"),
        "0022\nunlimited\n0\n"
    );
    assert_eq!(out("echo bg & wait; echo $?"), "bg\n0\n");
    assert_eq!(out("x=1; x=2 & echo $x"), "1\n");
    let r = sh("trap 'echo bye $?' EXIT; echo hi; exit 3");
    assert_eq!((r.code, r.out.as_str()), (3, "hi\nbye 3\n"));
    assert_eq!(
        out("trap 'echo trapped' EXIT INT; (trap 'echo sub' EXIT; echo in); echo out"),
        "in\nsub\nout\ntrapped\n"
    );
    assert_eq!(out("trap 'echo t' 0; trap - 0; echo x"), "x\n");
    let r = sh("exec echo replaced; echo never");
    assert_eq!((r.code, r.out.as_str()), (0, "replaced\n"));
    assert_eq!(
        out("cd /nonexistent 2>/dev/null || echo failed; echo $PWD"),
        "failed\n/\n"
    );
    assert_eq!(out("set -- 1 2; set -e -u; echo $- $1"), "eu 1\n");
    assert_eq!(
        out("/bin/echo path; builtin echo 2>/dev/null || echo notbuiltin"),
        "path\nnotbuiltin\n"
    );
}

#[test]
fn script_files() {
    let dir = root();
    std::fs::write(
        dir.path().join("tmp/script"),
        "#!/bin/bash\necho \"script $0 $# $1\"\nexit 7\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tmp/lib.sh"),
        "greet() { echo \"hi $1\"; }\nLIBVAR=yes\nreturn 0\necho never\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["/tmp/script", "arg"], b"");
    assert_eq!((r.code, r.out.as_str()), (7, "script /tmp/script 1 arg\n"));
    let r = run_in(dir.path(), &["-c", "/tmp/script"], b"");
    assert_eq!((r.code, r.out.as_str()), (7, "script /tmp/script 0 \n"));
    let r = run_in(dir.path(), &["-c", "cd /tmp && ./script a b; echo $?"], b"");
    assert_eq!(r.out, "script ./script 2 a\n7\n");
    let r = run_in(
        dir.path(),
        &["-c", ". /tmp/lib.sh; greet you; echo $LIBVAR"],
        b"",
    );
    assert_eq!(r.out, "hi you\nyes\n");
    let r = run_in(dir.path(), &["-x", "/tmp/script"], b"");
    assert_eq!(r.err, "+ echo 'script /tmp/script 0 '\n+ exit 7\n");
    let r = run_in(dir.path(), &["-e", "/tmp/nope"], b"");
    assert_eq!(
        (r.code, r.err.as_str()),
        (
            127,
            "sh: can't open '/tmp/nope': No such file or directory\n"
        )
    );
    let r = run_in(dir.path(), &[], b"echo from stdin; echo $0");
    assert_eq!(r.out, "from stdin\nsh\n");
    let r = run_in(dir.path(), &["-c", "/tmp/nope; echo $?"], b"");
    assert_eq!(
        (r.out.as_str(), r.err.as_str()),
        (
            "127\n",
            "sh: /tmp/nope: command not found in skiff's toolbox\n"
        )
    );
    let r = run_in(
        dir.path(),
        &[
            "-c",
            "sh -c 'echo nested $0 $1' me you; bash -c 'exit 4'; echo $?",
        ],
        b"",
    );
    assert_eq!(r.out, "nested me you\n4\n");
}

#[test]
fn exported_environment() {
    let dir = root();
    let mut sys = Sys::with_root(dir.path());
    sys.env.insert("FROM_ENV".to_string(), "e".to_string());
    let mut input: &[u8] = b"";
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args: Vec<String> = ["-c", "echo $FROM_ENV; sh -c 'echo [$FROM_ENV][$NOT][$X][$Y]'; X=1 sh -c 'echo $X'; export Y=2; NOT=3; sh -c 'echo $Y$NOT'"].iter().map(|s| s.to_string()).collect();
    let code = crate::run(
        "sh",
        &args,
        &mut sys,
        &mut Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        },
    );
    assert_eq!(code, Some(0));
    assert_eq!(String::from_utf8_lossy(&out), "e\n[e][][][]\n1\n2\n");
    assert_eq!(
        sys.env.get("Y"),
        None,
        "the caller's environment is left alone"
    );
}

#[test]
fn syntax_arithmetic_and_patterns_are_checked_without_running() {
    assert!(super::check_syntax("echo hi | wc -c > /tmp/out").is_ok());
    let e = super::check_syntax("echo a\nif true; then").unwrap_err();
    assert!(e.starts_with("line "), "{e}");
    // Deep nesting is an error, not a stack overflow (the fuzz target `shell` feeds such inputs).
    for deep in [
        "(".repeat(100_000),
        "$(".repeat(100_000),
        "\"$(".repeat(50_000),
        "${x:-".repeat(100_000),
        "{ ".repeat(100_000),
        "if true; then ".repeat(50_000),
    ] {
        assert!(super::check_syntax(&deep).is_err());
    }
    assert_eq!(super::eval_arithmetic("1 + 2 * 3"), Ok(7));
    assert!(super::eval_arithmetic("1 / 0").is_err());
    assert!(super::eval_arithmetic(&"(".repeat(100_000)).is_err());
    assert!(super::pattern_matches("*.txt", "a.txt"));
    assert!(!super::pattern_matches("[!a]*", "abc"));
}
