#include "masklens/ui/label_colours.h"

#include "masklens/engine/error.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace masklens::ui {

namespace {

[[noreturn]] void fail(const std::string& source, int line, const std::string& message)
{
    throw_input_error(source, "line " + std::to_string(line) + ": " + message);
}

double number(const std::string& word, const std::string& source, int line, const char* field)
{
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(word.c_str(), &end);
    if (word.empty() || end != word.c_str() + word.size() || errno == ERANGE || !std::isfinite(value)) {
        fail(source, line, std::string(field) + " '" + word + "' is not a number");
    }
    return value;
}

std::int64_t whole(const std::string& word, const std::string& source, int line, const char* field,
                   double low, double high)
{
    const double value = number(word, source, line, field);
    if (value != std::floor(value) || value < low || value > high) {
        std::ostringstream range;
        range << low << ".." << high;
        fail(source, line, std::string(field) + " " + word + " is not a whole number in " + range.str());
    }
    return static_cast<std::int64_t>(value);
}

std::vector<std::string> words_of(const std::string& text)
{
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

constexpr double kMostLabel = 1e9; // indices beyond this are not label values of a mask

LabelStyle parse_itksnap(const std::string& line_text, const std::string& source, int line)
{
    const auto open = line_text.find('"');
    const auto close = line_text.rfind('"');
    if (close == open) {
        fail(source, line, "the label name's closing quote is missing");
    }
    const auto fields = words_of(line_text.substr(0, open));
    if (fields.size() != 7) {
        fail(source, line,
             "an ITK-SNAP line needs 7 numbers (IDX R G B A VIS MSH) before the quoted name, found " +
                 std::to_string(fields.size()));
    }
    LabelStyle style;
    style.value = whole(fields[0], source, line, "index", 0, kMostLabel);
    style.colour = {static_cast<std::uint8_t>(whole(fields[1], source, line, "red", 0, 255)),
                    static_cast<std::uint8_t>(whole(fields[2], source, line, "green", 0, 255)),
                    static_cast<std::uint8_t>(whole(fields[3], source, line, "blue", 0, 255))};
    style.opacity = number(fields[4], source, line, "alpha");
    if (style.opacity < 0 || style.opacity > 1) {
        fail(source, line, "alpha " + fields[4] + " is outside 0..1");
    }
    style.visible = whole(fields[5], source, line, "visibility", 0, 1) != 0;
    whole(fields[6], source, line, "mesh visibility", 0, 1);
    style.name = line_text.substr(open + 1, close - open - 1);
    return style;
}

LabelStyle parse_slicer(const std::string& line_text, const std::string& source, int line)
{
    const auto fields = words_of(line_text);
    if (fields.size() != 5 && fields.size() != 6) {
        fail(source, line,
             "expected a 3D Slicer colour (IDX NAME R G B [A]) or an ITK-SNAP label (IDX R G B A VIS MSH "
             "\"NAME\"), found " +
                 std::to_string(fields.size()) + " fields");
    }
    LabelStyle style;
    style.value = whole(fields[0], source, line, "index", 0, kMostLabel);
    style.name = fields[1];
    style.colour = {static_cast<std::uint8_t>(whole(fields[2], source, line, "red", 0, 255)),
                    static_cast<std::uint8_t>(whole(fields[3], source, line, "green", 0, 255)),
                    static_cast<std::uint8_t>(whole(fields[4], source, line, "blue", 0, 255))};
    if (fields.size() == 6) {
        style.opacity = static_cast<double>(whole(fields[5], source, line, "alpha", 0, 255)) / 255.0;
    }
    return style;
}

} // namespace

const LabelStyle* LabelColours::find(std::int64_t value) const noexcept
{
    const auto it = std::lower_bound(entries.begin(), entries.end(), value,
                                     [](const LabelStyle& style, std::int64_t v) { return style.value < v; });
    return it != entries.end() && it->value == value ? &*it : nullptr;
}

LabelColours parse_label_colours(const std::string& text, const std::string& source)
{
    LabelColours colours;
    colours.source = source;
    std::istringstream in(text);
    int line = 0;
    for (std::string line_text; std::getline(in, line_text);) {
        ++line;
        if (!line_text.empty() && line_text.back() == '\r') {
            line_text.pop_back();
        }
        const auto first = line_text.find_first_not_of(" \t");
        if (first == std::string::npos || line_text[first] == '#') {
            continue;
        }
        LabelStyle style = line_text.find('"') != std::string::npos ? parse_itksnap(line_text, source, line)
                                                                    : parse_slicer(line_text, source, line);
        if (colours.find(style.value)) {
            fail(source, line, "index " + std::to_string(style.value) + " appears twice");
        }
        const auto at =
            std::lower_bound(colours.entries.begin(), colours.entries.end(), style.value,
                             [](const LabelStyle& entry, std::int64_t v) { return entry.value < v; });
        colours.entries.insert(at, std::move(style));
    }
    if (colours.entries.empty()) {
        throw_input_error(source, "no labels: expected ITK-SNAP label lines or a 3D Slicer colour table");
    }
    return colours;
}

LabelColours read_label_colours(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw_input_error(path, "cannot open the label file");
    }
    constexpr std::streamoff kMostBytes = 16 << 20;
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    if (size < 0 || size > kMostBytes) {
        throw_input_error(path, "a label file of more than 16 MiB is not a label description");
    }
    file.seekg(0);
    std::string text(static_cast<std::size_t>(size), '\0');
    file.read(text.data(), size);
    if (text.find('\0') != std::string::npos) {
        throw_input_error(path, "binary data: not a label description or colour table");
    }
    return parse_label_colours(text, path);
}

Rgb default_label_colour(std::int64_t value)
{
    static constexpr std::array<Rgb, 14> palette{
        Rgb{0xE6, 0x9F, 0x00}, Rgb{0x56, 0xB4, 0xE9}, Rgb{0x00, 0x9E, 0x73}, Rgb{0xF0, 0xE4, 0x42},
        Rgb{0x00, 0x72, 0xB2}, Rgb{0xD5, 0x5E, 0x00}, Rgb{0xCC, 0x79, 0xA7}, Rgb{0x33, 0x22, 0x88},
        Rgb{0x88, 0xCC, 0xEE}, Rgb{0x44, 0xAA, 0x99}, Rgb{0x11, 0x77, 0x33}, Rgb{0x99, 0x99, 0x33},
        Rgb{0xDD, 0xCC, 0x77}, Rgb{0xCC, 0x66, 0x77}};
    if (value <= 0) {
        return {0, 0, 0};
    }
    return palette[static_cast<std::size_t>((value - 1) % static_cast<std::int64_t>(palette.size()))];
}

LabelStyle label_style(const LabelColours& colours, std::int64_t value)
{
    if (const LabelStyle* style = colours.find(value)) {
        return *style;
    }
    LabelStyle style;
    style.value = value;
    style.name = "label " + std::to_string(value);
    style.colour = default_label_colour(value);
    return style;
}

} // namespace masklens::ui
