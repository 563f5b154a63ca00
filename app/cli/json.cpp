#include "json.h"

#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"

#include <charconv>
#include <cmath>

namespace masklens::cli {

const JsonValue* JsonValue::find(const std::string& key) const noexcept
{
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == key) {
            return &members[i];
        }
    }
    return nullptr;
}

namespace {

class Parser {
public:
    Parser(const std::string& text, const std::string& source) : text_(text), source_(source) {}

    JsonValue document()
    {
        JsonValue value = parse_value(0);
        skip_space();
        if (position_ != text_.size()) {
            fail("unexpected text after the JSON document");
        }
        return value;
    }

private:
    [[noreturn]] void fail(const std::string& message)
    {
        throw_input_error(source_, "not valid JSON at byte " + std::to_string(position_) + ": " + message);
    }

    void skip_space()
    {
        while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                            text_[position_] == '\r' || text_[position_] == '\t')) {
            ++position_;
        }
    }

    bool consume(const char* word)
    {
        const std::string w(word);
        if (text_.compare(position_, w.size(), w) == 0) {
            position_ += w.size();
            return true;
        }
        return false;
    }

    void expect(char c)
    {
        skip_space();
        if (position_ >= text_.size() || text_[position_] != c) {
            fail(std::string("expected '") + c + "'");
        }
        ++position_;
    }

    void append_utf8(std::string& out, unsigned code)
    {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    unsigned hex4()
    {
        if (position_ + 4 > text_.size()) {
            fail("truncated \\u escape");
        }
        unsigned code = 0;
        const auto [next, status] =
            std::from_chars(text_.data() + position_, text_.data() + position_ + 4, code, 16);
        if (status != std::errc() || next != text_.data() + position_ + 4) {
            fail("bad \\u escape");
        }
        position_ += 4;
        return code;
    }

    std::string parse_string()
    {
        expect('"');
        std::string out;
        while (true) {
            if (position_ >= text_.size()) {
                fail("unterminated string");
            }
            const char c = text_[position_++];
            if (c == '"') {
                return out;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (position_ >= text_.size()) {
                fail("unterminated string");
            }
            const char e = text_[position_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned code = hex4();
                if (code >= 0xD800 && code < 0xDC00 && consume("\\u")) {
                    const unsigned low = hex4();
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(out, code);
                break;
            }
            default: fail("bad escape");
            }
        }
    }

    JsonValue parse_value(int depth)
    {
        if (depth > 64) {
            fail("nested too deeply");
        }
        skip_space();
        if (position_ >= text_.size()) {
            fail("unexpected end");
        }
        JsonValue value;
        const char c = text_[position_];
        if (c == '{') {
            value.type = JsonValue::Type::Object;
            ++position_;
            skip_space();
            if (position_ < text_.size() && text_[position_] == '}') {
                ++position_;
                return value;
            }
            while (true) {
                skip_space();
                std::string key = parse_string();
                expect(':');
                value.names.push_back(std::move(key));
                value.members.push_back(parse_value(depth + 1));
                skip_space();
                if (position_ < text_.size() && text_[position_] == ',') {
                    ++position_;
                    continue;
                }
                expect('}');
                return value;
            }
        }
        if (c == '[') {
            value.type = JsonValue::Type::Array;
            ++position_;
            skip_space();
            if (position_ < text_.size() && text_[position_] == ']') {
                ++position_;
                return value;
            }
            while (true) {
                value.items.push_back(parse_value(depth + 1));
                skip_space();
                if (position_ < text_.size() && text_[position_] == ',') {
                    ++position_;
                    continue;
                }
                expect(']');
                return value;
            }
        }
        if (c == '"') {
            value.type = JsonValue::Type::String;
            value.text = parse_string();
            return value;
        }
        if (consume("null")) {
            return value;
        }
        if (consume("true")) {
            value.type = JsonValue::Type::Bool;
            value.boolean = true;
            return value;
        }
        if (consume("false")) {
            value.type = JsonValue::Type::Bool;
            return value;
        }
        value.type = JsonValue::Type::Number;
        const char* begin = text_.data() + position_;
        const auto [next, status] = std::from_chars(begin, text_.data() + text_.size(), value.number);
        if (status != std::errc() || next == begin) {
            fail("expected a value");
        }
        position_ += static_cast<std::size_t>(next - begin);
        return value;
    }

    const std::string& text_;
    const std::string& source_;
    std::size_t position_ = 0;
};

} // namespace

JsonValue parse_json(const std::string& text, const std::string& source)
{
    return Parser(text, source).document();
}

std::string canonical_json(const JsonValue& value)
{
    switch (value.type) {
    case JsonValue::Type::Null: return "null";
    case JsonValue::Type::Bool: return value.boolean ? "true" : "false";
    case JsonValue::Type::Number: return std::isfinite(value.number) ? format_number(value.number) : "null";
    case JsonValue::Type::String: return json_quote(value.text);
    case JsonValue::Type::Array: {
        std::string out = "[";
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            out += (i ? ", " : "") + canonical_json(value.items[i]);
        }
        return out + "]";
    }
    case JsonValue::Type::Object: {
        std::string out = "{";
        for (std::size_t i = 0; i < value.members.size(); ++i) {
            out += (i ? ", " : "") + json_quote(value.names[i]) + ": " + canonical_json(value.members[i]);
        }
        return out + "}";
    }
    }
    return "null";
}

} // namespace masklens::cli
