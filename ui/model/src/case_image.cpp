#include "masklens/ui/case_image.h"

#include "masklens/engine/folder.h"

#include <QDir>

namespace masklens::ui {

QString case_image(const QString& folder, const QString& case_id)
{
    if (folder.isEmpty() || case_id.isEmpty()) {
        return {};
    }
    const QDir dir(folder);
    QStringList exact, first_channel;
    for (const QString& name : dir.entryList(QDir::Files | QDir::Readable, QDir::Name)) {
        const std::optional<std::string> id = strip_supported_extension(name.toStdString());
        if (!id) {
            continue;
        }
        const QString stem = QString::fromStdString(*id);
        if (stem == case_id) {
            exact.append(name);
        } else if (stem == case_id + QStringLiteral("_0000")) {
            first_channel.append(name);
        }
    }
    for (const QStringList* found : {&exact, &first_channel}) {
        if (found->size() == 1) {
            return dir.filePath(found->front());
        }
        if (found->size() > 1) {
            return {}; // e.g. case.nii.gz and case.nrrd: no guessing
        }
    }
    return {};
}

} // namespace masklens::ui
