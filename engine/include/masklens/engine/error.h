// One exception type for everything the engine and its readers reject.
// The GUI catches it at the action boundary and shows a dialog; the CLI prints
// "error: <what()>" and exits with exit_code().
#pragma once

#include <stdexcept>
#include <string>

namespace masklens {

class Error : public std::runtime_error {
public:
    enum class Kind {
        Usage,     // wrong options or arguments (CLI exit status 2)
        Input,     // a file or its contents cannot be used (exit status 1)
        Device,    // the requested compute device is missing or failed (exit status 1)
        Cancelled, // the caller asked to stop (GUI cancel button)
    };

    // `file` may be empty when the problem is not tied to one file.
    // what() is "FILE: message" (or "message" without a file).
    Error(Kind kind, std::string file, const std::string& message);

    Kind kind() const noexcept { return kind_; }
    const std::string& file() const noexcept { return file_; }
    const std::string& message() const noexcept { return message_; }
    int exit_code() const noexcept { return kind_ == Kind::Usage ? 2 : 1; }

private:
    Kind kind_;
    std::string file_;
    std::string message_;
};

[[noreturn]] void throw_input_error(const std::string& file, const std::string& message);
[[noreturn]] void throw_usage_error(const std::string& message);

} // namespace masklens
