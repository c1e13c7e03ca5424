use rasp::ShellSafe;

#[rasp::sink(kind = "shell", guard(cmd))]
fn run(cmd: impl ShellSafe) {
    let _ = cmd;
}

fn main() {
    run("ls");
}
