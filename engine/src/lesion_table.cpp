// Writing the per-lesion table (lesion_table.h) as JSON and CSV.
#include "masklens/engine/lesion_table.h"

#include "masklens/engine/report.h"

#include <cmath>

namespace masklens {

namespace {

std::string json_value(double value)
{
    return std::isfinite(value) ? format_number(value) : "null";
}

std::string csv_value(double value)
{
    return std::isfinite(value) ? format_number(value) : "";
}

template <class T> std::string json_triple(const std::array<T, 3>& v)
{
    std::string out = "[";
    for (std::size_t i = 0; i < 3; ++i) {
        if constexpr (std::is_floating_point_v<T>) {
            out += (i ? ", " : "") + json_value(v[i]);
        } else {
            out += (i ? ", " : "") + std::to_string(v[i]);
        }
    }
    return out + "]";
}

} // namespace

std::string_view lesion_side_name(LesionSide side) noexcept
{
    return side == LesionSide::Target ? "target" : "prediction";
}

std::string_view lesion_status_name(LesionStatus status) noexcept
{
    switch (status) {
    case LesionStatus::Tp: return "tp";
    case LesionStatus::Fn: return "fn";
    case LesionStatus::Fp: return "fp";
    }
    return "tp";
}

void write_lesion_rows_json(std::ostream& out, const std::vector<LesionRow>& rows, const std::string& indent)
{
    out << "[";
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const LesionRow& row = rows[r];
        const LesionRecord& l = row.lesion;
        out << (r ? ",\n" : "\n") << indent << "{\"sample\": " << row.sample
            << ", \"label\": " << (row.label < 0 ? std::string("null") : std::to_string(row.label))
            << ", \"side\": \"" << lesion_side_name(l.side) << "\", \"id\": " << l.id
            << ", \"voxels\": " << l.voxels << ", \"volume_mm3\": " << json_value(row.volume_mm3)
            << ", \"centroid_voxel\": " << json_triple(l.centroid)
            << ", \"centroid_world\": " << json_triple(row.centroid_world)
            << ", \"bbox_lo\": " << json_triple(l.lo) << ", \"bbox_hi\": " << json_triple(l.hi)
            << ", \"status\": \"" << lesion_status_name(l.status)
            << "\", \"scored\": " << (l.scored ? "true" : "false") << ", \"matched\": [";
        for (std::size_t m = 0; m < l.matched.size(); ++m) {
            out << (m ? ", " : "") << l.matched[m];
        }
        out << "], \"dice\": " << json_value(l.dice) << ", \"hd95\": " << json_value(l.hd95) << "}";
    }
    out << (rows.empty() ? "]" : "\n" + indent.substr(0, indent.size() >= 2 ? indent.size() - 2 : 0) + "]");
}

std::vector<SizeBin> size_bin_recall(const std::vector<LesionRow>& rows, const std::vector<double>& edges,
                                     std::int64_t sample, std::int64_t label)
{
    std::vector<SizeBin> bins(edges.size());
    for (std::size_t b = 0; b < edges.size(); ++b) {
        bins[b].from = edges[b];
        bins[b].to = b + 1 < edges.size() ? edges[b + 1] : std::numeric_limits<double>::infinity();
    }
    for (const LesionRow& row : rows) {
        const LesionRecord& l = row.lesion;
        if (row.label != label || (sample >= 0 && row.sample != sample) || l.side != LesionSide::Target ||
            !l.scored) {
            continue;
        }
        for (SizeBin& bin : bins) {
            if (row.volume_mm3 >= bin.from && row.volume_mm3 < bin.to) {
                ++bin.target;
                bin.tp += l.status == LesionStatus::Tp ? 1 : 0;
                break;
            }
        }
    }
    return bins;
}

void write_size_bin_recall_json(std::ostream& out, const std::vector<LesionRow>& rows,
                                const std::vector<double>& edges,
                                const std::vector<std::pair<std::int64_t, std::int64_t>>& keys,
                                const std::string& indent)
{
    out << "[";
    for (std::size_t k = 0; k < keys.size(); ++k) {
        const auto [sample, label] = keys[k];
        out << (k ? ",\n" : "\n") << indent
            << "{\"sample\": " << (sample < 0 ? "null" : std::to_string(sample))
            << ", \"label\": " << (label < 0 ? "null" : std::to_string(label)) << ", \"bins\": [";
        const std::vector<SizeBin> bins = size_bin_recall(rows, edges, sample, label);
        for (std::size_t b = 0; b < bins.size(); ++b) {
            out << (b ? ", " : "") << "{\"from\": " << json_value(bins[b].from)
                << ", \"to\": " << json_value(bins[b].to) << ", \"target\": " << bins[b].target
                << ", \"tp\": " << bins[b].tp << ", \"recall\": " << json_value(bins[b].recall()) << "}";
        }
        out << "]}";
    }
    out << (keys.empty() ? "]" : "\n" + indent.substr(0, indent.size() >= 2 ? indent.size() - 2 : 0) + "]");
}

void write_lesion_csv_header(std::ostream& out, bool with_case)
{
    out << (with_case ? "case," : "")
        << "sample,label,side,id,voxels,volume_mm3,centroid_d,centroid_h,centroid_w,centroid_x,centroid_y,"
           "centroid_z,bbox_lo_d,bbox_lo_h,bbox_lo_w,bbox_hi_d,bbox_hi_h,bbox_hi_w,status,scored,matched,"
           "dice,"
           "hd95\n";
}

void write_lesion_rows_csv(std::ostream& out, const std::vector<LesionRow>& rows, const std::string& case_id,
                           bool with_case)
{
    for (const LesionRow& row : rows) {
        const LesionRecord& l = row.lesion;
        if (with_case) {
            out << csv_field(case_id) << ',';
        }
        out << row.sample << ',' << (row.label < 0 ? std::string() : std::to_string(row.label)) << ','
            << lesion_side_name(l.side) << ',' << l.id << ',' << l.voxels << ',' << csv_value(row.volume_mm3);
        for (const double c : l.centroid) {
            out << ',' << csv_value(c);
        }
        for (const double c : row.centroid_world) {
            out << ',' << csv_value(c);
        }
        for (const std::int64_t v : l.lo) {
            out << ',' << v;
        }
        for (const std::int64_t v : l.hi) {
            out << ',' << v;
        }
        out << ',' << lesion_status_name(l.status) << ',' << (l.scored ? "true" : "false") << ',';
        for (std::size_t m = 0; m < l.matched.size(); ++m) {
            out << (m ? ";" : "") << l.matched[m];
        }
        out << ',' << csv_value(l.dice) << ',' << csv_value(l.hd95) << '\n';
    }
}

} // namespace masklens
