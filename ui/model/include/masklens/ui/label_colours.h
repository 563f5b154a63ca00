// Label names and colours: an ITK-SNAP label description file or a 3D Slicer
// colour table (--labels-file, File > Open Label Colours), or the default
// palette. Toolkit-free; the views (2D now, 3D later) and the label chooser
// read the one table the SessionPresenter holds.
//
// ITK-SNAP (one label a line, '#' comments):
//     IDX  R  G  B  A  VIS  MSH  "NAME"     R, G, B 0..255; A 0..1; VIS, MSH 0 or 1
// 3D Slicer colour table (.ctbl / .txt, '#' comments):
//     IDX  NAME  R  G  B  [A]               R, G, B, A 0..255; NAME without spaces
#pragma once

#include "masklens/ui/slice_model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace masklens::ui {

struct LabelStyle {
    std::int64_t value = 0;
    std::string name;
    Rgb colour;
    double opacity = 1.0; // 0..1
    bool visible = true;
    bool operator==(const LabelStyle& other) const noexcept = default;
};

struct LabelColours {
    std::vector<LabelStyle> entries; // by value, ascending
    std::string source;              // the file read ("" : defaults)
    // The entry of `value`, or null.
    const LabelStyle* find(std::int64_t value) const noexcept;
    bool operator==(const LabelColours& other) const noexcept = default;
};

// Parses either format (told apart per line: ITK-SNAP lines hold a quoted
// name). Throws Error(Input) naming `source` and the line: a field that is not
// a number, a value out of range, a repeated or negative index, a line of
// neither format, or a file without labels.
LabelColours parse_label_colours(const std::string& text, const std::string& source);
// Reads and parses `path` (at most 16 MiB; Error(Input) naming it otherwise).
LabelColours read_label_colours(const std::string& path);

// The colour of a label without a table: a fixed colour-blind-aware palette
// (Okabe-Ito's first seven hues, then Paul Tol's muted scheme), cycling.
Rgb default_label_colour(std::int64_t value);
// The style of `value`: the table's entry, else the default colour, named "label N".
LabelStyle label_style(const LabelColours& colours, std::int64_t value);

} // namespace masklens::ui
