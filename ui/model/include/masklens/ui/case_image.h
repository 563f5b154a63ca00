// The image of a case in a folder of images, for the results browser: the
// underlay shown under a case's masks when the user has chosen an images
// folder. Qt Core only.
#pragma once

#include <QString>

namespace masklens::ui {

// The file in `folder` (not its subfolders) whose name, without a supported
// extension (the engine's strip_supported_extension, as folder runs pair
// files), is `case_id`, or else `case_id` followed by "_0000" (the first
// channel in nnU-Net's imagesTr / imagesTs naming). Empty when none is, or
// when more than one file matches the same rule (the choice would be a
// guess). Case ids are compared exactly, as folder runs do.
QString case_image(const QString& folder, const QString& case_id);

} // namespace masklens::ui
