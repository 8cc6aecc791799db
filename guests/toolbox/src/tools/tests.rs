//! Table tests of the tools, run natively against a temporary root folder.

use crate::{Io, Sys};

fn sandbox() -> (tempfile::TempDir, Sys) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = Sys::with_root(dir.path());
    (dir, sys)
}

/// Runs a tool: (exit code, stdout, stderr).
fn run(sys: &mut Sys, name: &str, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    let mut input: &[u8] = stdin;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        };
        crate::tools::run(name, &args, sys, &mut io).unwrap_or(127)
    };
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// Runs a table of `(tool, args, stdin, stdout, code)` cases.
fn table(cases: &[(&str, &[&str], &str, &str, i32)]) {
    let (_dir, mut sys) = sandbox();
    for (tool, args, stdin, want, code) in cases {
        let (c, out, err) = run(&mut sys, tool, args, stdin.as_bytes());
        assert_eq!(
            (out.as_str(), c),
            (*want, *code),
            "{tool} {args:?} <<< {stdin:?} (stderr: {err})"
        );
    }
}

fn write(sys: &Sys, path: &str, data: &str) {
    let host = sys.host_path(path);
    if let Some(p) = host.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(host, data).unwrap();
}

fn read(sys: &Sys, path: &str) -> String {
    std::fs::read_to_string(sys.host_path(path)).unwrap()
}

#[test]
fn names_are_sorted_and_all_run() {
    let mut sorted = crate::tools::NAMES.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, crate::tools::NAMES);
    let (_dir, mut sys) = sandbox();
    for name in crate::tools::NAMES {
        if matches!(*name, "yes" | "sleep") {
            continue;
        }
        let args: Vec<String> = match *name {
            "xargs" | "env" => vec!["true".to_string()],
            _ => vec!["--definitely-not-an-option".to_string()],
        };
        let mut input: &[u8] = b"";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        };
        assert!(
            crate::tools::run(name, &args, &mut sys, &mut io).is_some(),
            "{name}"
        );
    }
    assert!(run(&mut sys, "nosuchtool", &[], b"").0 == 127);
}

#[test]
fn coinflip_pipeline() {
    let (_dir, mut sys) = sandbox();
    let (code, out, _) = run(
        &mut sys,
        "od",
        &["-N2", "-An", "-i"],
        &[0x34, 0x12, 0xff, 0xff],
    );
    assert_eq!((code, out.as_str()), (0, "        4660\n"));
    let (code, res, _) = run(
        &mut sys,
        "awk",
        &[
            "-v",
            "f=1",
            "-v",
            "r=100",
            "{printf \"%i\\n\", f + r * $1 / 65536}",
        ],
        out.as_bytes(),
    );
    // 1 + 100 * 4660 / 65536 = 8.11...
    assert_eq!((code, res.as_str()), (0, "8\n"));
    // The highest value stays within 1..100.
    let (_, out, _) = run(&mut sys, "od", &["-N2", "-An", "-i"], &[0xff, 0xff]);
    assert_eq!(out, "       65535\n");
    let (_, res, _) = run(
        &mut sys,
        "awk",
        &[
            "-v",
            "f=1",
            "-v",
            "r=100",
            "{printf \"%i\\n\", f + r * $1 / 65536}",
        ],
        out.as_bytes(),
    );
    assert_eq!(res, "100\n");
    // From /dev/urandom: -N bounds the read.
    let (code, out, _) = run(&mut sys, "od", &["-N2", "-An", "-i", "/dev/urandom"], b"");
    assert_eq!(code, 0);
    let n: i64 = out.trim().parse().unwrap();
    assert!((0..65536).contains(&n));
}

#[test]
fn od_formats() {
    table(&[
        ("od", &[], "abc", "0000000 061141 000143\n0000003\n", 0),
        (
            "od",
            &["-c"],
            "a\n\t",
            "0000000   a  \\n  \\t\n0000003\n",
            0,
        ),
        ("od", &["-An", "-t", "x1"], "AB", " 41 42\n", 0),
        ("od", &["-An", "-t", "u1"], "AB", "  65  66\n", 0),
        (
            "od",
            &["-An", "-t", "d4"],
            "\u{1}\0\0\0",
            "           1\n",
            0,
        ),
        ("od", &["-x"], "AB", "0000000 4241\n0000002\n", 0),
        (
            "od",
            &["-Ad", "-N", "3", "-b"],
            "ABCDEF",
            "0000000 101 102 103\n0000003\n",
            0,
        ),
        ("od", &["-t", "q"], "", "", 1),
    ]);
    let zeros = "\0".repeat(48);
    table(&[(
        "od",
        &["-An", "-tx1"],
        zeros.as_str(),
        " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n*\n",
        0,
    )]);
}

#[test]
fn awk_programs() {
    table(&[
        (
            "awk",
            &["{ s += $2 } END { print s }"],
            "a 1\nb 2\nc 3.5\n",
            "6.5\n",
            0,
        ),
        (
            "awk",
            &["-F,", "{ print $2 }"],
            "a,b,c\nd,e,f\n",
            "b\ne\n",
            0,
        ),
        (
            "awk",
            &["-F", ":", "-v", "OFS=-", "{ $1 = $1; print }"],
            "a:b:c\n",
            "a-b-c\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { printf \"%5.2f|%-4s|%03d\\n\", 3.14159, \"ab\", 7 }"],
            "",
            " 3.14|ab  |007\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { x = 1; x += 2; x *= 3; print x, x % 4, 2 ^ 10, -2 ^ 2 }"],
            "",
            "9 1 1024 -4\n",
            0,
        ),
        (
            "awk",
            &["{ c[$1]++ } END { for (k in c) print k, c[k] }"],
            "a\nb\na\n",
            "a 2\nb 1\n",
            0,
        ),
        (
            "awk",
            &["{ gsub(/o/, \"0\"); print }"],
            "foo boo\n",
            "f00 b00\n",
            0,
        ),
        (
            "awk",
            &["{ n = sub(/o+/, \"[&]\"); print n, $0 }"],
            "foo\n",
            "1 f[oo]\n",
            0,
        ),
        (
            "awk",
            &[
                "BEGIN { s = \"hello\"; print length(s), substr(s, 2, 3), index(s, \"ll\"), toupper(s) }",
            ],
            "",
            "5 ell 3 HELLO\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { n = split(\"a:b:c\", p, \":\"); print n, p[1] p[3] }"],
            "",
            "3 ac\n",
            0,
        ),
        ("awk", &["/b/"], "abc\nxyz\nb\n", "abc\nb\n", 0),
        (
            "awk",
            &["NR == 2, NR == 3 { print NR \": \" $0 }"],
            "a\nb\nc\nd\n",
            "2: b\n3: c\n",
            0,
        ),
        (
            "awk",
            &["{ print NF, $NF }"],
            "  a b   c  \n\n",
            "3 c\n0 \n",
            0,
        ),
        (
            "awk",
            &["$2 > 5 { print $1 }"],
            "x 10\ny 3\nz 6\n",
            "x\nz\n",
            0,
        ),
        (
            "awk",
            &["$1 == \"10\" { print \"str\" } $1 == 10 { print \"num\" }"],
            "10.0\n",
            "num\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { print 1/3; print 0.1 + 0.2; print 100000 * 100000; print 1e6 }"],
            "",
            "0.333333\n0.3\n10000000000\n1000000\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { if (match(\"foobar\", /ob+/)) print RSTART, RLENGTH }"],
            "",
            "3 2\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { while (i < 3) { i++; if (i == 2) continue; print i } }"],
            "",
            "1\n3\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { do { k++ } while (k < 5); print k }"],
            "",
            "5\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { for (i = 0; i < 3; i++) s = s i; print s }"],
            "",
            "012\n",
            0,
        ),
        (
            "awk",
            &["function f(a, b) { return a * b } BEGIN { print f(6, 7) }"],
            "",
            "42\n",
            0,
        ),
        (
            "awk",
            &[
                "function fill(arr) { arr[\"x\"] = 1 } BEGIN { fill(t); print length(t), (\"x\" in t) }",
            ],
            "",
            "1 1\n",
            0,
        ),
        ("awk", &["NR == 1 { next } { print }"], "a\nb\n", "b\n", 0),
        (
            "awk",
            &["{ print; exit 3 } END { print \"end\" }"],
            "a\nb\n",
            "a\nend\n",
            3,
        ),
        (
            "awk",
            &["BEGIN { a[1]; a[2]; delete a[1]; print length(a), (1 in a), (2 in a) }"],
            "",
            "1 0 1\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { x = \"3x\"; print x + 1, (x > 10) ? \"big\" : \"small\" }"],
            "",
            "4 big\n",
            0,
        ),
        (
            "awk",
            &["{ $3 = \"z\"; print; print NF }"],
            "a b\n",
            "a b z\n3\n",
            0,
        ),
        ("awk", &["{ NF = 2; print }"], "a b c d\n", "a b\n", 0),
        (
            "awk",
            &["BEGIN { printf \"%s %d %c%c\\n\", \"x\", \"12abc\", 65, \"hi\" }"],
            "",
            "x 12 Ah\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { print int(-3.7), int(\"4.2\"), sqrt(16), length() }"],
            "",
            "-3 4 4 0\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { print sprintf(\"%x-%o-%e\", 255, 8, 12345.678) }"],
            "",
            "ff-10-1.234568e+04\n",
            0,
        ),
        ("awk", &["{ print $1 > \"/dev/stderr\" }"], "a\n", "", 0),
        (
            "awk",
            &["BEGIN { print \"a\" \"b\", \"c\" }"],
            "",
            "ab c\n",
            0,
        ),
        ("awk", &["END { print NR }"], "1\n2\n3\n", "3\n", 0),
        ("awk", &["{ getline; print }"], "1\n2\n3\n4\n", "2\n4\n", 0),
        (
            "awk",
            &["BEGIN { getline line; print \"got\", line }"],
            "first\n",
            "got first\n",
            0,
        ),
        (
            "awk",
            &["$0 ~ \"^a.c$\" && !/x/"],
            "abc\naxc\nabcd\n",
            "abc\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { s = \"aaa\"; print gsub(/x*/, \"-\", s), s }"],
            "",
            "4 -a-a-a-\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { OFS = \":\"; $0 = \"a b c\"; $1 = $1; print }"],
            "",
            "a:b:c\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { FS = \"[0-9]+\" } { print $2 }"],
            "a12b3c\n",
            "b\n",
            0,
        ),
        (
            "awk",
            &["BEGIN { x[1,2] = 3; for (k in x) { split(k, p, SUBSEP); print p[1], p[2] } }"],
            "",
            "1 2\n",
            0,
        ),
    ]);
}

#[test]
fn awk_files_and_errors() {
    let (_dir, mut sys) = sandbox();
    write(&sys, "/data/in.txt", "1\n2\n");
    write(
        &sys,
        "/prog.awk",
        "{ s += $1 }\nEND { print s > \"/out/sum\" }\n",
    );
    std::fs::create_dir_all(sys.host_path("/out")).unwrap();
    let (code, _, err) = run(&mut sys, "awk", &["-f", "/prog.awk", "/data/in.txt"], b"");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(read(&sys, "/out/sum"), "3\n");
    let (code, out, _) = run(
        &mut sys,
        "awk",
        &["{ print FILENAME, FNR }", "/data/in.txt", "-"],
        b"x\n",
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "/data/in.txt 1\n/data/in.txt 2\n- 1\n")
    );
    let (code, out, _) = run(
        &mut sys,
        "awk",
        &["{ print v }", "v=7", "/data/in.txt"],
        b"",
    );
    assert_eq!((code, out.as_str()), (0, "7\n7\n"));
    // Errors: syntax, missing file, division by zero, bad regex, system().
    let (code, _, err) = run(&mut sys, "awk", &["{ print ( }"], b"");
    assert_eq!(code, 2);
    assert!(err.starts_with("awk: "), "{err}");
    let (code, _, err) = run(&mut sys, "awk", &["{ print }", "/missing"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("No such file or directory"), "{err}");
    assert_eq!(run(&mut sys, "awk", &["BEGIN { print 1 / 0 }"], b"").0, 2);
    assert_eq!(run(&mut sys, "awk", &["/a(/"], b"").0, 2);
    assert_eq!(
        run(
            &mut sys,
            "awk",
            &["BEGIN { x = \"(\"; if (\"a\" ~ x) print }"],
            b""
        )
        .0,
        2
    );
    assert_eq!(
        run(&mut sys, "awk", &["BEGIN { system(\"ls\") }"], b"").0,
        2
    );
    assert_eq!(run(&mut sys, "awk", &[], b"").0, 1);
}

#[test]
fn printf_cases() {
    table(&[
        ("printf", &["%s-%s\\n", "a", "b", "c"], "", "a-b\nc-\n", 0),
        (
            "printf",
            &["%d %i %u\\n", "42", "-7", "3"],
            "",
            "42 -7 3\n",
            0,
        ),
        (
            "printf",
            &["%5d|%-5d|%05d|%+d\\n", "1", "2", "3", "4"],
            "",
            "    1|2    |00003|+4\n",
            0,
        ),
        (
            "printf",
            &["%x %X %o %#x %#o\\n", "255", "255", "8", "255", "8"],
            "",
            "ff FF 10 0xff 010\n",
            0,
        ),
        (
            "printf",
            &[
                "%.2f %e %g %g %g\\n",
                "3.14159",
                "1234.5",
                "0.0001",
                "123456789",
                "100",
            ],
            "",
            "3.14 1.234500e+03 0.0001 1.23457e+08 100\n",
            0,
        ),
        ("printf", &["%c%c\\n", "hello", "w"], "", "hw\n", 0),
        (
            "printf",
            &["%5s|%-5s|%.2s\\n", "ab", "cd", "xyz"],
            "",
            "   ab|cd   |xy\n",
            0,
        ),
        (
            "printf",
            &["%*d|%-*d|\\n", "4", "7", "3", "8"],
            "",
            "   7|8  |\n",
            0,
        ),
        ("printf", &["%b\\n", "a\\tb\\0101"], "", "a\tbA\n", 0),
        ("printf", &["100%%\\n"], "", "100%\n", 0),
        ("printf", &["\\101\\x42\\n"], "", "AB\n", 0),
        ("printf", &["%d\\n", "abc"], "", "0\n", 1),
        ("printf", &["%d %d\\n", "12abc", "'A"], "", "12 65\n", 1),
        ("printf", &["%s\\n"], "", "\n", 0),
        ("printf", &["%d %s\\n"], "", "0 \n", 0),
        ("printf", &["%d\\n", "0x1F"], "", "31\n", 0),
        ("printf", &["x%by\\n", "a\\cb"], "", "xa", 0),
        ("printf", &["%z"], "", "", 1),
        ("printf", &[], "", "", 1),
        (
            "printf",
            &["%.3d|%8.3f|%-8.1e|\\n", "5", "2.5", "1500"],
            "",
            "005|   2.500|1.5e+03 |\n",
            0,
        ),
        ("printf", &["%f\\n", "1e3"], "", "1000.000000\n", 0),
    ]);
}

#[test]
fn echo_true_false() {
    table(&[
        ("echo", &["a", "b"], "", "a b\n", 0),
        ("echo", &["-n", "a"], "", "a", 0),
        ("echo", &["-e", "a\\tb\\n"], "", "a\tb\n\n", 0),
        ("echo", &["-ne", "x\\0101"], "", "xA", 0),
        ("echo", &["a\\nb"], "", "a\\nb\n", 0),
        ("echo", &["-e", "a\\cb"], "", "a", 0),
        ("echo", &["-E", "a\\nb"], "", "a\\nb\n", 0),
        ("echo", &["-x", "y"], "", "-x y\n", 0),
        ("echo", &[], "", "\n", 0),
        ("true", &[], "", "", 0),
        ("false", &[], "", "", 1),
    ]);
}

#[test]
fn test_and_bracket() {
    let (_dir, mut sys) = sandbox();
    write(&sys, "/f", "x");
    write(&sys, "/empty", "");
    std::fs::create_dir_all(sys.host_path("/d")).unwrap();
    let cases: &[(&str, &[&str], i32)] = &[
        ("[", &["a", "=", "a", "]"], 0),
        ("[", &["a", "!=", "a", "]"], 1),
        ("[", &["-n", "", "]"], 1),
        ("[", &["-z", "", "]"], 0),
        ("[", &["x", "]"], 0),
        ("[", &["", "]"], 1),
        ("[", &["]"], 1),
        ("[", &["1", "-lt", "2", "]"], 0),
        ("[", &["3", "-le", "2", "]"], 1),
        ("[", &["3", "-ge", "3", "-a", "1", "-eq", "2", "]"], 1),
        ("[", &["3", "-ge", "3", "-o", "1", "-eq", "2", "]"], 0),
        ("[", &["!", "-e", "/nope", "]"], 0),
        ("[", &["-f", "/f", "]"], 0),
        ("[", &["-f", "/d", "]"], 1),
        ("[", &["-d", "/d", "]"], 0),
        ("[", &["-s", "/f", "]"], 0),
        ("[", &["-s", "/empty", "]"], 1),
        ("[", &["-e", "/dev/null", "]"], 0),
        ("[", &["(", "a", "=", "b", ")", "-o", "x", "]"], 0),
        ("[", &["-n", "]"], 0),
        ("[", &["a", "=", "a"], 2),
        ("[", &["x", "-eq", "1", "]"], 2),
        ("[", &["a", "b", "]"], 2),
        ("test", &["-n", "abc"], 0),
        ("test", &[], 1),
        ("test", &["10", "-gt", "9"], 0),
        ("test", &["abc", "<", "abd"], 0),
    ];
    for (tool, args, code) in cases {
        let (c, _, err) = run(&mut sys, tool, args, b"");
        assert_eq!(c, *code, "{tool} {args:?}: {err}");
    }
    let (_, _, err) = run(&mut sys, "[", &["x", "-eq", "1", "]"], b"");
    assert_eq!(err, "[: x: bad number\n");
    let (_, _, err) = run(&mut sys, "[", &["a"], b"");
    assert_eq!(err, "[: missing ]\n");
}

#[test]
fn sleep_and_seq() {
    table(&[
        ("sleep", &["0"], "", "", 0),
        ("sleep", &["0.01", "0s"], "", "", 0),
        ("sleep", &["x"], "", "", 1),
        ("sleep", &[], "", "", 1),
        ("seq", &["3"], "", "1\n2\n3\n", 0),
        ("seq", &["2", "4"], "", "2\n3\n4\n", 0),
        ("seq", &["1", "2", "7"], "", "1\n3\n5\n7\n", 0),
        ("seq", &["5", "-2", "1"], "", "5\n3\n1\n", 0),
        ("seq", &["-s", ",", "3"], "", "1,2,3\n", 0),
        ("seq", &["-w", "8", "10"], "", "08\n09\n10\n", 0),
        ("seq", &["0", "0.5", "1.5"], "", "0.0\n0.5\n1.0\n1.5\n", 0),
        ("seq", &["-1", "1"], "", "-1\n0\n1\n", 0),
        ("seq", &["3", "1"], "", "", 0),
        ("seq", &["x"], "", "", 1),
    ]);
    let (_dir, mut sys) = sandbox();
    let (_, _, err) = run(&mut sys, "sleep", &["x"], b"");
    assert_eq!(err, "sleep: invalid number 'x'\n");
}

#[test]
fn head_tail_wc_tee() {
    let (_dir, mut sys) = sandbox();
    write(&sys, "/a", "1\n2\n3\n");
    write(&sys, "/b", "x\n");
    let ten: String = (1..=12).map(|i| format!("{i}\n")).collect();
    let cases: &[(&str, &[&str], &str, &str, i32)] = &[
        ("head", &[], &ten, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 0),
        ("head", &["-n", "2"], &ten, "1\n2\n", 0),
        ("head", &["-3"], &ten, "1\n2\n3\n", 0),
        ("head", &["-c", "3"], "abcdef", "abc", 0),
        ("head", &["-n", "-10"], &ten, "1\n2\n", 0),
        (
            "head",
            &["-n1", "/a", "/b"],
            "",
            "==> /a <==\n1\n\n==> /b <==\nx\n",
            0,
        ),
        ("head", &["/missing"], "", "", 1),
        ("tail", &[], &ten, "3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", 0),
        ("tail", &["-n", "2"], &ten, "11\n12\n", 0),
        ("tail", &["-n", "+11"], &ten, "11\n12\n", 0),
        ("tail", &["-c", "3"], "abcdef", "def", 0),
        ("tail", &["-1"], "a\nb", "b", 0),
        (
            "wc",
            &[],
            "hello world\nbye\n",
            "        2         3        16\n",
            0,
        ),
        ("wc", &["-l"], "a\nb\n", "2\n", 0),
        ("wc", &["-w"], " a  b\tc\n", "3\n", 0),
        ("wc", &["-c"], "abc", "3\n", 0),
        ("wc", &["-l", "/a"], "", "        3 /a\n", 0),
        (
            "wc",
            &["-l", "/a", "/b"],
            "",
            "        3 /a\n        1 /b\n        4 total\n",
            0,
        ),
        ("wc", &["/missing"], "", "", 1),
        ("tee", &["/t1", "/t2"], "data\n", "data\n", 0),
        ("tee", &["-a", "/t1"], "more\n", "more\n", 0),
        ("tee", &["/nodir/x"], "y\n", "y\n", 1),
    ];
    for (tool, args, stdin, want, code) in cases {
        let (c, out, err) = run(&mut sys, tool, args, stdin.as_bytes());
        assert_eq!((out.as_str(), c), (*want, *code), "{tool} {args:?}: {err}");
    }
    assert_eq!(read(&sys, "/t1"), "data\nmore\n");
    assert_eq!(read(&sys, "/t2"), "data\n");
    let (_, _, err) = run(&mut sys, "head", &["/missing"], b"");
    assert_eq!(err, "head: /missing: No such file or directory\n");
}

#[test]
fn cat_cases() {
    let (_dir, mut sys) = sandbox();
    write(&sys, "/x", "one\ntwo\n");
    let (c, out, _) = run(&mut sys, "cat", &["/x", "-"], b"three\n");
    assert_eq!((c, out.as_str()), (0, "one\ntwo\nthree\n"));
    let (c, out, _) = run(&mut sys, "cat", &["-n", "/x"], b"");
    assert_eq!((c, out.as_str()), (0, "     1\tone\n     2\ttwo\n"));
    let (c, _, err) = run(&mut sys, "cat", &["/nope"], b"");
    assert_eq!(
        (c, err.as_str()),
        (1, "cat: /nope: No such file or directory\n")
    );
}

#[test]
fn tr_cut_sort_uniq() {
    table(&[
        ("tr", &["a-z", "A-Z"], "hello\n", "HELLO\n", 0),
        ("tr", &["[:lower:]", "[:upper:]"], "abc1\n", "ABC1\n", 0),
        ("tr", &["-d", "[:digit:]"], "a1b2c3\n", "abc\n", 0),
        ("tr", &["-s", " "], "a   b  c\n", "a b c\n", 0),
        ("tr", &["-cd", "[:alnum:]\\n"], "a-b_c!\n", "abc\n", 0),
        ("tr", &["abc", "x"], "aabbcc\n", "xxxxxx\n", 0),
        ("tr", &["-d", "\\n"], "a\nb\n", "ab", 0),
        ("tr", &["[:space:]", "_"], "a b\tc\n", "a_b_c_", 0),
        ("tr", &[], "", "", 1),
        (
            "cut",
            &["-d", ",", "-f", "2"],
            "a,b,c\n1,2,3\n",
            "b\n2\n",
            0,
        ),
        ("cut", &["-d:", "-f1,3"], "a:b:c\n", "a:c\n", 0),
        ("cut", &["-f", "2-"], "a\tb\tc\n", "b\tc\n", 0),
        ("cut", &["-c", "2-4"], "abcdef\n", "bcd\n", 0),
        ("cut", &["-c", "-2,5"], "abcdef\n", "abe\n", 0),
        ("cut", &["-d", ",", "-f", "2"], "nodelim\n", "nodelim\n", 0),
        ("cut", &["-s", "-d", ",", "-f", "2"], "nodelim\n", "", 0),
        ("cut", &["-f", "0"], "x\n", "", 1),
        ("sort", &[], "b\na\nc\n", "a\nb\nc\n", 0),
        ("sort", &["-r"], "b\na\nc\n", "c\nb\na\n", 0),
        ("sort", &["-n"], "10\n9\n100\n-1\n", "-1\n9\n10\n100\n", 0),
        ("sort", &["-u"], "b\na\nb\n", "a\nb\n", 0),
        (
            "sort",
            &["-k", "2"],
            "x 3\ny 1\nz 2\n",
            "y 1\nz 2\nx 3\n",
            0,
        ),
        (
            "sort",
            &["-t", ",", "-k", "2", "-n"],
            "a,10\nb,9\n",
            "b,9\na,10\n",
            0,
        ),
        (
            "sort",
            &["-k2,2nr"],
            "a 1\nb 3\nc 2\n",
            "b 3\nc 2\na 1\n",
            0,
        ),
        ("sort", &["-f"], "b\nA\na\nB\n", "A\na\nB\nb\n", 0),
        ("uniq", &[], "a\na\nb\na\n", "a\nb\na\n", 0),
        ("uniq", &["-c"], "a\na\nb\n", "      2 a\n      1 b\n", 0),
        ("uniq", &["-d"], "a\na\nb\n", "a\n", 0),
        ("uniq", &["-u"], "a\na\nb\n", "b\n", 0),
    ]);
}

#[test]
fn grep_cases() {
    table(&[
        ("grep", &["b"], "abc\nxyz\n", "abc\n", 0),
        ("grep", &["q"], "abc\n", "", 1),
        ("grep", &["-v", "b"], "abc\nxyz\n", "xyz\n", 0),
        ("grep", &["-c", "a"], "a\nb\na\n", "2\n", 0),
        ("grep", &["-n", "a"], "a\nb\na\n", "1:a\n3:a\n", 0),
        (
            "grep",
            &["-i", "HELLO"],
            "hello there\n",
            "hello there\n",
            0,
        ),
        ("grep", &["-q", "a"], "a\n", "", 0),
        (
            "grep",
            &["-E", "^(ab|cd)+$"],
            "abcd\nabx\ncdab\n",
            "abcd\ncdab\n",
            0,
        ),
        ("grep", &["^a.*c$"], "abc\nabd\n", "abc\n", 0),
        ("grep", &["a\\{2\\}"], "a\naa\n", "aa\n", 0),
        ("grep", &["-E", "a{2,}"], "a\naaa\n", "aaa\n", 0),
        ("grep", &["\\(ab\\)*c"], "ababc\n", "ababc\n", 0),
        ("grep", &["a|b"], "a|b\na\n", "a|b\n", 0),
        ("grep", &["a\\|b"], "b\nc\n", "b\n", 0),
        ("grep", &["-E", "a|b"], "b\nc\n", "b\n", 0),
        ("grep", &["-F", "a.c"], "abc\na.c\n", "a.c\n", 0),
        ("grep", &["[[:digit:]]\\+"], "abc\na1\n", "a1\n", 0),
        ("grep", &["-o", "[0-9]\\+"], "a12b345\n", "12\n345\n", 0),
        ("grep", &["-w", "foo"], "foobar\nfoo bar\n", "foo bar\n", 0),
        ("grep", &["-x", "foo"], "foo\nfoo2\n", "foo\n", 0),
        ("grep", &["-e", "a", "-e", "b"], "a\nb\nc\n", "a\nb\n", 0),
        ("grep", &["[^a-c]"], "abc\nabd\n", "abd\n", 0),
        ("grep", &["-E", "x?y"], "y\n", "y\n", 0),
        ("grep", &["x?y"], "x?y\ny\n", "x?y\n", 0),
        ("grep", &["-E", "(ab"], "ab\n", "", 2),
        ("grep", &["[a"], "a\n", "", 2),
        ("egrep", &["a+"], "aa\n", "aa\n", 0),
        ("fgrep", &["a+"], "aa\na+\n", "a+\n", 0),
        ("grep", &[], "", "", 2),
    ]);
    let (_dir, mut sys) = sandbox();
    write(&sys, "/f1", "apple\nbanana\n");
    write(&sys, "/f2", "cherry\napricot\n");
    let (c, out, _) = run(&mut sys, "grep", &["ap", "/f1", "/f2"], b"");
    assert_eq!((c, out.as_str()), (0, "/f1:apple\n/f2:apricot\n"));
    let (c, out, _) = run(&mut sys, "grep", &["-l", "an", "/f1", "/f2"], b"");
    assert_eq!((c, out.as_str()), (0, "/f1\n"));
    let (c, out, _) = run(&mut sys, "grep", &["-h", "ch", "/f1", "/f2"], b"");
    assert_eq!((c, out.as_str()), (0, "cherry\n"));
    let (c, _, err) = run(&mut sys, "grep", &["x", "/nope"], b"");
    assert_eq!(
        (c, err.as_str()),
        (2, "grep: /nope: No such file or directory\n")
    );
    let (c, out, _) = run(&mut sys, "grep", &["-r", "err", "/"], b"");
    assert_eq!((c, out.as_str()), (0, "/f2:cherry\n"));
}

#[test]
fn file_tools() {
    let (_dir, mut sys) = sandbox();
    let ok = |r: (i32, String, String)| {
        assert_eq!(r.0, 0, "{}", r.2);
        r.1
    };
    ok(run(&mut sys, "mkdir", &["-p", "/w/a/b"], b""));
    let (c, _, err) = run(&mut sys, "mkdir", &["/w/a"], b"");
    assert_eq!(
        (c, err.as_str()),
        (1, "mkdir: can't create directory '/w/a': File exists\n")
    );
    let (c, _, _) = run(&mut sys, "mkdir", &["/x/y/z"], b"");
    assert_eq!(c, 1);
    ok(run(&mut sys, "touch", &["/w/a/f1", "/w/a/.hidden"], b""));
    sys.cwd = "/w".to_string();
    assert_eq!(ok(run(&mut sys, "pwd", &[], b"")), "/w\n");
    write(&sys, "/w/a/f2", "hello\n");
    assert_eq!(ok(run(&mut sys, "ls", &["a"], b"")), "b\nf1\nf2\n");
    assert_eq!(
        ok(run(&mut sys, "ls", &["-a", "a"], b"")),
        ".\n..\n.hidden\nb\nf1\nf2\n"
    );
    assert_eq!(
        ok(run(&mut sys, "ls", &["-1", "a/f2", "a/f1"], b"")),
        "a/f1\na/f2\n"
    );
    let long = ok(run(&mut sys, "ls", &["-l", "a"], b""));
    assert!(long.starts_with("total "), "{long}");
    assert!(
        long.lines()
            .any(|l| l.starts_with("drwx") && l.ends_with(" b")),
        "{long}"
    );
    assert!(
        long.lines()
            .any(|l| l.starts_with("-rw") && l.contains(" root     root ") && l.ends_with(" f2")),
        "{long}"
    );
    let (c, _, err) = run(&mut sys, "ls", &["/none"], b"");
    assert_eq!(
        (c, err.as_str()),
        (1, "ls: /none: No such file or directory\n")
    );
    ok(run(&mut sys, "cp", &["a/f2", "a/f3"], b""));
    assert_eq!(read(&sys, "/w/a/f3"), "hello\n");
    let (c, _, err) = run(&mut sys, "cp", &["a", "c"], b"");
    assert_eq!((c, err.as_str()), (1, "cp: omitting directory 'a'\n"));
    ok(run(&mut sys, "cp", &["-r", "a", "c"], b""));
    assert_eq!(read(&sys, "/w/c/f2"), "hello\n");
    assert!(sys.host_path("/w/c/b").is_dir());
    ok(run(&mut sys, "cp", &["a/f2", "a/f3", "c/b"], b""));
    assert_eq!(read(&sys, "/w/c/b/f3"), "hello\n");
    let (c, _, err) = run(&mut sys, "cp", &["/nope", "x"], b"");
    assert_eq!(
        (c, err.as_str()),
        (1, "cp: can't stat '/nope': No such file or directory\n")
    );
    ok(run(&mut sys, "mv", &["a/f3", "a/f4"], b""));
    assert!(!sys.exists("/w/a/f3"));
    assert_eq!(read(&sys, "/w/a/f4"), "hello\n");
    ok(run(&mut sys, "mv", &["a/f4", "c"], b""));
    assert_eq!(read(&sys, "/w/c/f4"), "hello\n");
    let (c, _, _) = run(&mut sys, "mv", &["/nope", "x"], b"");
    assert_eq!(c, 1);
    let (c, _, err) = run(&mut sys, "rm", &["c"], b"");
    assert_eq!((c, err.as_str()), (1, "rm: 'c' is a directory\n"));
    ok(run(&mut sys, "rm", &["-rf", "c"], b""));
    assert!(!sys.exists("/w/c"));
    ok(run(&mut sys, "rm", &["-f", "/nope"], b""));
    let (c, _, err) = run(&mut sys, "rm", &["/nope"], b"");
    assert_eq!(
        (c, err.as_str()),
        (1, "rm: can't remove '/nope': No such file or directory\n")
    );
    ok(run(&mut sys, "rm", &["a/f1"], b""));
    assert!(!sys.exists("/w/a/f1"));
    table(&[
        ("basename", &["/a/b/c.txt"], "", "c.txt\n", 0),
        ("basename", &["/a/b/c.txt", ".txt"], "", "c\n", 0),
        ("basename", &["/"], "", "/\n", 0),
        ("basename", &["a/"], "", "a\n", 0),
        ("dirname", &["/a/b/c"], "", "/a/b\n", 0),
        ("dirname", &["c"], "", ".\n", 0),
        ("dirname", &["/c"], "", "/\n", 0),
    ]);
}

#[test]
fn system_tools() {
    let (_dir, mut sys) = sandbox();
    sys.env.insert("B".to_string(), "2".to_string());
    sys.env.insert("A".to_string(), "1".to_string());
    let cases: &[(&str, &[&str], &str, i32)] = &[
        ("env", &[], "A=1\nB=2\n", 0),
        ("env", &["-i", "X=y"], "X=y\n", 0),
        ("env", &["C=3", "env"], "A=1\nB=2\nC=3\n", 0),
        ("env", &["-u", "A"], "B=2\n", 0),
        ("env", &["echo", "hi"], "hi\n", 0),
        ("env", &["nosuch"], "", 127),
        ("uname", &[], "Linux\n", 0),
        (
            "uname",
            &["-a"],
            "Linux skiff 6.0.0-skiff #1 SMP wasm32 Linux\n",
            0,
        ),
        ("uname", &["-m"], "wasm32\n", 0),
        ("uname", &["-sn"], "Linux skiff\n", 0),
        ("uname", &["-r"], "6.0.0-skiff\n", 0),
        ("hostname", &[], "skiff\n", 0),
        ("whoami", &[], "root\n", 0),
        ("id", &[], "uid=0(root) gid=0(root) groups=0(root)\n", 0),
        ("id", &["-u"], "0\n", 0),
        ("id", &["-un"], "root\n", 0),
        ("date", &["-u", "-d", "@0", "+%F"], "1970-01-01\n", 0),
        (
            "date",
            &["-d", "@1700000000"],
            "Tue Nov 14 22:13:20 UTC 2023\n",
            0,
        ),
        (
            "date",
            &[
                "-d",
                "@1700000000",
                "+%Y-%m-%d %H:%M:%S %s %j %a %b %A %B %Z %z %%",
            ],
            "2023-11-14 22:13:20 1700000000 318 Tue Nov Tuesday November UTC +0000 %\n",
            0,
        ),
        (
            "date",
            &["-d", "@1700000000", "+%T|%D|%e|%y"],
            "22:13:20|11/14/23|14|23\n",
            0,
        ),
        (
            "date",
            &["-d", "2026-11-29 12:00:00"],
            "Sun Nov 29 12:00:00 UTC 2026\n",
            0,
        ),
        ("date", &["-d", "nonsense"], "", 1),
        (
            "sha256sum",
            &[],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n",
            0,
        ),
        ("base64", &[], "YWJj\n", 0),
        ("xargs", &[], "a b\nc\n", 0),
    ];
    for (tool, args, want, code) in cases {
        let stdin: &[u8] = match *tool {
            "sha256sum" | "base64" => b"abc",
            "xargs" => b"a b\nc\n",
            _ => b"",
        };
        let want = if *tool == "xargs" { "a b c\n" } else { want };
        let (c, out, err) = run(&mut sys, tool, args, stdin);
        assert_eq!((out.as_str(), c), (want, *code), "{tool} {args:?}: {err}");
    }
    let (c, out, _) = run(&mut sys, "date", &[], b"");
    assert_eq!(c, 0);
    assert!(
        out.ends_with(" UTC 2026\n") || out.contains(" UTC "),
        "{out}"
    );
    let (_, out, _) = run(&mut sys, "sha256sum", &[], b"");
    assert_eq!(
        out,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n"
    );
    let long = "a".repeat(1000);
    let (_, out, _) = run(&mut sys, "sha256sum", &[], long.as_bytes());
    assert_eq!(
        out,
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3  -\n"
    );
    table(&[
        ("base64", &["-d"], "aGVsbG8gd29ybGQ=\n", "hello world", 0),
        ("base64", &[], "hello world", "aGVsbG8gd29ybGQ=\n", 0),
        ("base64", &["-d"], "!!!", "", 1),
        ("xargs", &["-n", "1", "echo", "x"], "a b\n", "x a\nx b\n", 0),
        (
            "xargs",
            &["-I", "{}", "echo", "<{}>"],
            "a b\nc\n",
            "<a b>\n<c>\n",
            0,
        ),
        ("xargs", &["false"], "a\n", "", 123),
        ("xargs", &["nosuch"], "a\n", "", 127),
        (
            "xargs",
            &["echo"],
            "'a b' \"c d\" e\\ f\n",
            "a b c d e f\n",
            0,
        ),
    ]);
}

#[test]
fn cowsay_bubbles() {
    let (_dir, mut sys) = sandbox();
    let (c, out, _) = run(&mut sys, "cowsay", &["hello", "world"], b"");
    assert_eq!(c, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], " _____________");
    assert_eq!(lines[1], "< hello world >");
    assert_eq!(lines[2], " -------------");
    assert!(lines[3].trim() == "\\");
    assert!(lines.len() >= 10);
    let (_, out, _) = run(&mut sys, "cowsay", &[], b"from stdin\n");
    assert!(
        out.starts_with(" ____________\n< from stdin >\n ------------\n"),
        "{out}"
    );
    let text = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk";
    let (_, out, _) = run(&mut sys, "cowsay", &[text], b"");
    let want = " _________________________________________\n\
                / aaaa bbbb cccc dddd eeee ffff gggg hhhh \\\n\
                \\ iiii jjjj kkkk                          /\n \
                -----------------------------------------\n";
    assert!(out.starts_with(want), "{out}");
    let text =
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen";
    let (_, out, _) = run(&mut sys, "cowsay", &[text], b"");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with("/ ") && lines[1].ends_with(" \\"));
    assert!(lines[2].starts_with("| ") && lines[2].ends_with(" |"));
    assert!(lines[3].starts_with("\\ ") && lines[3].ends_with(" /"));
    assert_eq!(lines[0].len(), lines[1].len() - 1);
}

#[test]
fn argosay_behaviours() {
    let (_dir, mut sys) = sandbox();
    write(&sys, "/in.txt", "some text\n");
    let cases: &[(&[&str], &str, i32)] = &[
        (&[], "hello argo\n", 0),
        (&["echo"], "hello argo\n", 0),
        (&["echo", "hi there"], "hi there\n", 0),
        (&["echo", "saved", "/tmp/out/msg.txt"], "", 0),
        (&["cat", "/in.txt"], "some text\n", 0),
        (&["cat", "/tmp/out/msg.txt"], "saved", 0),
        (&["cat", "/nope"], "", 1),
        (&["sleep", "10ms"], "", 0),
        (&["sleep", "1x"], "", 1),
        (&["exit"], "", 0),
        (&["exit", "3"], "", 3),
        (&["assert_contains", "/in.txt", "some"], "", 0),
        (&["assert_contains", "/in.txt", "other"], "", 1),
        (&["assert_equals", "a", "a"], "", 0),
        (&["assert_equals", "a", "b"], "", 1),
        (&["frobnicate"], "", 1),
        (&["sh", "-c", "echo from sh; exit 4"], "from sh\n", 4),
    ];
    for (args, want, code) in cases {
        let (c, out, err) = run(&mut sys, "argosay", args, b"");
        assert_eq!((out.as_str(), c), (*want, *code), "argosay {args:?}: {err}");
    }
    let (_, _, err) = run(&mut sys, "argosay", &["frobnicate"], b"");
    assert_eq!(err, "argosay: unknown command frobnicate\n");
    table(&[
        ("argosay-v1", &[], "", "hello argo\n", 0),
        ("argosay-v1", &["hi", "you"], "", "hi you\n", 0),
    ]);
    assert_eq!(super::argosay::parse_go_duration("1m30s"), Some(90.0));
    assert_eq!(super::argosay::parse_go_duration("500ms"), Some(0.5));
    assert_eq!(super::argosay::parse_go_duration("1.5h"), Some(5400.0));
    assert_eq!(super::argosay::parse_go_duration("10"), None);
}

#[test]
fn errors_never_panic() {
    let (_dir, mut sys) = sandbox();
    let nasty: &[&[&str]] = &[
        &["-n"],
        &["-c"],
        &["-e"],
        &["-k"],
        &["-t"],
        &["-N"],
        &["-d"],
        &["--"],
        &["-"],
        &["("],
        &[")"],
        &["!"],
        &["-n", "x", "-z"],
        &["%"],
        &["%*.*d", "x", "y"],
        &["[", "]"],
        &["\\"],
        &["{"],
        &["-f", "/nope"],
        &["-k", "0"],
        &["-n", "-x"],
        &["-c", "-1"],
        &["-N", "-1"],
        &["-t", "z9"],
        &["a\\{9999\\}"],
        &["-E", "a{1,99999}"],
        &["$(1"],
        &["BEGIN { a[1] = 1; a = 2 }"],
        &["BEGIN { x = 1; x[1] = 2 }"],
        &["BEGIN { print substr(\"abc\", -5, 100), substr(\"abc\", 2) }"],
        &["BEGIN { print $(-1) }"],
        &["BEGIN { f() }"],
        &["function f(x) { return f(x) } BEGIN { f(1) }"],
        &["-w", "0"],
    ];
    for name in crate::tools::NAMES {
        if matches!(*name, "yes" | "sleep" | "xargs" | "env") {
            continue;
        }
        for args in nasty {
            let _ = run(&mut sys, name, args, b"some input\nwith lines\n");
        }
    }
    assert_eq!(
        run(
            &mut sys,
            "awk",
            &["BEGIN { print substr(\"abc\", -5, 100), substr(\"abc\", 2) }"],
            b""
        )
        .1,
        "abc bc\n"
    );
    // Deep nesting is an error, not a stack overflow.
    let deep_awk = format!(
        "BEGIN {{ print {}1{} }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert_eq!(run(&mut sys, "awk", &[&deep_awk], b"").0, 2);
    let deep_re = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(run(&mut sys, "grep", &["-E", &deep_re], b"a\n").0, 2);
    let (code, _, err) = run(
        &mut sys,
        "awk",
        &["function f(x) { return f(x) } BEGIN { f(1) }"],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("nested too deeply"), "{err}");
    let sum = "function f(n) { return n ? n + f(n - 1) : 0 } BEGIN { print f(30) }";
    assert_eq!(run(&mut sys, "awk", &[sum], b"").1, "465\n");
}
