// Line segments for the scenes' crosshairs (private to masklens_ui): both the
// slice scene and the 3D scene draw their cursor this way.
#pragma once

#include <vtkCellArray.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>

#include <array>
#include <vector>

namespace masklens::ui {

// Replaces `poly`'s geometry by the segments ends[0]-ends[1], ends[2]-ends[3], ...
inline void set_lines(vtkPolyData* poly, const std::vector<std::array<double, 3>>& ends)
{
    vtkNew<vtkPoints> points;
    vtkNew<vtkCellArray> lines;
    for (std::size_t i = 0; i + 1 < ends.size(); i += 2) {
        const vtkIdType a = points->InsertNextPoint(ends[i].data());
        const vtkIdType b = points->InsertNextPoint(ends[i + 1].data());
        const vtkIdType ids[2] = {a, b};
        lines->InsertNextCell(2, ids);
    }
    poly->SetPoints(points);
    poly->SetLines(lines);
    poly->Modified();
}

} // namespace masklens::ui
