fn main() -> std::process::ExitCode {
    stockwatch::cli::main()
}
