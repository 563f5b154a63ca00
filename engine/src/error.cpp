#include "masklens/engine/error.h"

namespace masklens {

namespace {
std::string compose(const std::string& file, const std::string& message)
{
    return file.empty() ? message : file + ": " + message;
}
} // namespace

Error::Error(Kind kind, std::string file, const std::string& message)
    : std::runtime_error(compose(file, message)), kind_(kind), file_(std::move(file)), message_(message)
{}

void throw_input_error(const std::string& file, const std::string& message)
{
    throw Error(Error::Kind::Input, file, message);
}

void throw_usage_error(const std::string& message)
{
    throw Error(Error::Kind::Usage, {}, message);
}

} // namespace masklens
