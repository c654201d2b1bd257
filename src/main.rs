fn main() -> std::process::ExitCode {
    leadsort::cli::main()
}
