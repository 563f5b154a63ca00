// SessionPresenter: the image under the masks (reading it off the UI thread,
// checking it against the pair, window / level).
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/session_presenter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

ImageLoad load_image(std::shared_ptr<const Volume> image, const QString& path,
                     std::shared_ptr<const Volume> target)
{
    ImageLoad load;
    load.path = path;
    try {
        if (!image) {
            image = std::make_shared<const Volume>(io::read_volume(path.toStdString()));
        }
        if (target) {
            check_image(*image, *target);
        }
        load.percentiles = value_percentiles(*image, 0.01, 0.99);
        load.image = std::move(image);
    } catch (const Error& error) {
        load.error = QString::fromStdString(error.what());
    } catch (const std::exception& error) {
        load.error = path + QStringLiteral(": ") + QString::fromLocal8Bit(error.what());
    }
    return load;
}

} // namespace

void SessionPresenter::openImage(const QString& path)
{
    auto target = dataset_.target;
    image_job_.start([path, target](const std::atomic<bool>&) { return load_image(nullptr, path, target); },
                     [this](ImageLoad load) { acceptImage(std::move(load)); }, synchronous_);
}

void SessionPresenter::setImage(std::shared_ptr<const Volume> image, const QString& path)
{
    image_job_.stop(true);
    acceptImage(load_image(std::move(image), path, dataset_.target));
}

void SessionPresenter::acceptImage(ImageLoad load)
{
    if (!load.error.isEmpty()) {
        emit errorOccurred(tr("The image cannot be shown under the masks."), load.error);
        return;
    }
    // A target opened while the image was read: check against it now.
    if (dataset_.target && load.image) {
        try {
            check_image(*load.image, *dataset_.target);
        } catch (const Error& error) {
            emit errorOccurred(tr("The image cannot be shown under the masks."),
                               QString::fromStdString(error.what()));
            return;
        }
    }
    image_ = std::move(load.image);
    image_path_ = load.path;
    image_percentiles_ = load.percentiles;
    const auto window = preset_window(default_preset(image_percentiles_), image_percentiles_);
    layers_.window = window[0];
    layers_.level = window[1];
    emit imageChanged();
    emit layersChanged();
}

void SessionPresenter::closeImage()
{
    image_job_.stop(false);
    if (!image_) {
        return;
    }
    image_.reset();
    image_path_.clear();
    emit imageChanged();
}

bool SessionPresenter::keepImageIfFits()
{
    if (!image_ || !dataset_.target) {
        return true;
    }
    try {
        check_image(*image_, *dataset_.target);
        return true;
    } catch (const Error&) {
        image_.reset();
        image_path_.clear();
        return false;
    }
}

void SessionPresenter::setWindowLevel(double window, double level)
{
    window = std::max(window, 1e-6);
    if (window == layers_.window && level == layers_.level) {
        return;
    }
    layers_.window = window;
    layers_.level = level;
    emit layersChanged();
}

void SessionPresenter::applyWindowPreset(WindowPreset preset)
{
    const auto window = preset_window(preset, image_percentiles_);
    setWindowLevel(window[0], window[1]);
}

double SessionPresenter::imageValue(const Voxel& voxel) const
{
    if (!image_) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const Shape& s = image_->shape();
    if (voxel.d < 0 || voxel.h < 0 || voxel.w < 0 || voxel.d >= s.d || voxel.h >= s.h || voxel.w >= s.w) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const std::int64_t n = std::clamp<std::int64_t>(sample_, 0, s.n - 1);
    return element_value(*image_, element_index(s, n, 0, voxel));
}

} // namespace masklens::ui
