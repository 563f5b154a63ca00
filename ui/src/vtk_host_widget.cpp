#include "masklens/ui/vtk_host_widget.h"

#include <QElapsedTimer>
#include <cstdio>

#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkRendererCollection.h>

#include <QCoreApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLFunctions>
#include <QOpenGLWidget>
#include <QPainter>
#include <QPointer>
#include <QScreen>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace masklens::ui {

namespace {

// VTK key symbols (X11 names) for the keys VTK's interactor styles use.
std::string key_symbol(const QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Left: return "Left";
    case Qt::Key_Right: return "Right";
    case Qt::Key_Up: return "Up";
    case Qt::Key_Down: return "Down";
    case Qt::Key_PageUp: return "Prior";
    case Qt::Key_PageDown: return "Next";
    case Qt::Key_Home: return "Home";
    case Qt::Key_End: return "End";
    case Qt::Key_Escape: return "Escape";
    case Qt::Key_Return:
    case Qt::Key_Enter: return "Return";
    case Qt::Key_Space: return "space";
    case Qt::Key_Plus: return "plus";
    case Qt::Key_Minus: return "minus";
    case Qt::Key_Shift: return "Shift_L";
    case Qt::Key_Control: return "Control_L";
    case Qt::Key_Alt: return "Alt_L";
    default: break;
    }
    const QString text = event->text();
    if (text.size() == 1 && text.at(0).isPrint()) {
        return text.toStdString();
    }
    return {};
}

} // namespace

void VtkHostWidget::setDefaultSurfaceFormat()
{
    QSurfaceFormat format;
    format.setRenderableType(QSurfaceFormat::OpenGL);
    format.setVersion(3, 2);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
    format.setRedBufferSize(8);
    format.setGreenBufferSize(8);
    format.setBlueBufferSize(8);
    format.setAlphaBufferSize(8);
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(8);
    format.setSamples(0);
    QSurfaceFormat::setDefaultFormat(format);
}

// Composited mode: the QOpenGLWidget child that Qt composes into the window.
// It fills the host, takes neither focus nor mouse events (the host gets
// them) and hands its GL callbacks to the host.
class VtkHostWidget::GlSurface : public QOpenGLWidget {
public:
    explicit GlSurface(VtkHostWidget* host) : QOpenGLWidget(host), host_(host)
    {
        setAttribute(Qt::WA_TransparentForMouseEvents);
        setFocusPolicy(Qt::NoFocus);
        connect(this, &QOpenGLWidget::frameSwapped, host, &VtkHostWidget::frameSwapped);
    }

protected:
    void initializeGL() override
    {
        // The context is (re)created: on first show and after a reparent.
        connect(context(), &QOpenGLContext::aboutToBeDestroyed, host_, &VtkHostWidget::releaseGraphics,
                Qt::UniqueConnection);
        host_->initializeGraphics();
    }
    void resizeGL(int width, int height) override
    {
        const double ratio = devicePixelRatioF();
        host_->resizeGraphics(static_cast<int>(std::lround(width * ratio)),
                              static_cast<int>(std::lround(height * ratio)));
    }
    void paintGL() override { host_->renderIntoCurrentFramebuffer(); }

private:
    VtkHostWidget* host_;
};

// Readback mode: the widget's own context, current on an offscreen surface
// (VTK renders into its own framebuffers; nothing is drawn to the surface).
struct VtkHostWidget::Offscreen {
    QOpenGLContext context;
    QOffscreenSurface surface;
};

namespace {

VtkHostWidget::Presentation detect_presentation()
{
    const QByteArray forced = qgetenv("MASKLENS_VIEW_PRESENTATION").toLower();
    if (forced == "composited") {
        return VtkHostWidget::Presentation::Composited;
    }
    if (forced == "readback") {
        return VtkHostWidget::Presentation::Readback;
    }
    // Auto: ask the OpenGL implementation for its renderer's name.
    QOpenGLContext context;
    QOffscreenSurface surface;
    surface.create();
    if (!context.create() || !context.makeCurrent(&surface)) {
        return VtkHostWidget::Presentation::Composited;
    }
    const auto* name = reinterpret_cast<const char*>(context.functions()->glGetString(GL_RENDERER));
    const QByteArray renderer = QByteArray(name ? name : "").toLower();
    context.doneCurrent();
    const bool software =
        renderer.contains("llvmpipe") || renderer.contains("softpipe") || renderer.contains("swrast");
    return software ? VtkHostWidget::Presentation::Readback : VtkHostWidget::Presentation::Composited;
}

QEvent::Type frameShownEventType()
{
    static const auto type = static_cast<QEvent::Type>(QEvent::registerEventType());
    return type;
}

} // namespace

// Handles a top-level window's UpdateRequest (Qt paints the dirty widgets and
// flushes them to the screen while handling it), then signals the frames of
// the Readback views that were painted in it.
class VtkHostWidget::FlushWatcher : public QObject {
public:
    static void watch(QWidget* top_level)
    {
        if (top_level == nullptr || top_level->property("masklensFlushWatcher").toBool()) {
            return;
        }
        top_level->setProperty("masklensFlushWatcher", true);
        top_level->installEventFilter(new FlushWatcher(top_level));
    }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() != QEvent::UpdateRequest || handling_ || watched != parent()) {
            return false;
        }
        handling_ = true;
        const QPointer<QObject> guard(watched);
        watched->event(event); // paint and flush, as Qt would have done
        handling_ = false;
        if (guard) {
            for (VtkHostWidget* view : static_cast<QWidget*>(watched)->findChildren<VtkHostWidget*>()) {
                view->signalFrameIfPending();
            }
        }
        return true;
    }

private:
    explicit FlushWatcher(QObject* parent) : QObject(parent) {}
    bool handling_ = false;
};

VtkHostWidget::Presentation VtkHostWidget::presentation()
{
    static const Presentation chosen = detect_presentation();
    return chosen;
}

VtkHostWidget::VtkHostWidget(QWidget* parent) : QWidget(parent), presentation_(presentation())
{
    window_ = vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New();
    window_->SetOwnContext(false);
    window_->SetFrameBlitModeToBlitToCurrent();
    window_->SetMultiSamples(0);
    window_->SetReadyForRendering(false);
    window_->SetForceMaximumHardwareLineWidth(1);
    for (const unsigned long event : {vtkCommand::WindowMakeCurrentEvent, vtkCommand::WindowIsCurrentEvent,
                                      vtkCommand::WindowFrameEvent}) {
        window_->AddObserver(event, this, &VtkHostWidget::onRenderWindowEvent);
    }

    interactor_ = vtkSmartPointer<vtkGenericRenderWindowInteractor>::New();
    interactor_->SetRenderWindow(window_);
    // The interactor never renders itself: its render requests become update().
    interactor_->EnableRenderOff();
    interactor_->AddObserver(vtkCommand::RenderEvent, this, &VtkHostWidget::onRenderWindowEvent);

    if (presentation_ == Presentation::Composited) {
        surface_ = new GlSurface(this);
    } else {
        // The image covers the whole widget: Qt need not paint a background.
        setAttribute(Qt::WA_OpaquePaintEvent);
        // Frames stay in VTK's render framebuffer and are read from there.
        window_->SwapBuffersOff();
    }
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setMinimumSize(64, 64);
}

VtkHostWidget::~VtkHostWidget()
{
    if (surface_ && surface_->context()) {
        disconnect(surface_->context(), nullptr, this, nullptr);
    }
    releaseGraphics();
    interactor_->RemoveObservers(vtkCommand::RenderEvent);
    window_->RemoveObservers(vtkCommand::WindowMakeCurrentEvent);
    window_->RemoveObservers(vtkCommand::WindowIsCurrentEvent);
    window_->RemoveObservers(vtkCommand::WindowFrameEvent);
}

vtkGenericOpenGLRenderWindow* VtkHostWidget::renderWindow() const
{
    return window_;
}

vtkGenericRenderWindowInteractor* VtkHostWidget::interactor() const
{
    return interactor_;
}

bool VtkHostWidget::makeContextCurrent()
{
    if (surface_) {
        if (!surface_->context()) {
            return false;
        }
        if (QOpenGLContext::currentContext() != surface_->context()) {
            surface_->makeCurrent();
        }
        return true;
    }
    if (!offscreen_) {
        return false;
    }
    return QOpenGLContext::currentContext() == &offscreen_->context ||
           offscreen_->context.makeCurrent(&offscreen_->surface);
}

bool VtkHostWidget::contextIsCurrent() const
{
    const QOpenGLContext* current = QOpenGLContext::currentContext();
    if (surface_) {
        return surface_->context() && current == surface_->context();
    }
    return offscreen_ && current == &offscreen_->context;
}

void VtkHostWidget::releaseGraphics()
{
    if (!initialized_ || !makeContextCurrent()) {
        return;
    }
    window_->SetIsCurrent(true);
    window_->ReleaseGraphicsResources(window_);
    window_->SetReadyForRendering(false);
    if (offscreen_) {
        offscreen_->context.doneCurrent();
    } else {
        surface_->doneCurrent();
    }
    initialized_ = false;
}

void VtkHostWidget::onRenderWindowEvent(vtkObject*, unsigned long event, void* call_data)
{
    switch (event) {
    case vtkCommand::WindowMakeCurrentEvent: makeContextCurrent(); break;
    case vtkCommand::WindowIsCurrentEvent: *static_cast<bool*>(call_data) = contextIsCurrent(); break;
    case vtkCommand::WindowFrameEvent:
    case vtkCommand::RenderEvent:
        if (!in_paint_) {
            requestRender();
        }
        break;
    default: break;
    }
}

void VtkHostWidget::requestRender()
{
    // Composited: the child renders (a plain update() of this widget does
    // not reach a QOpenGLWidget child, so views call requestRender()).
    if (surface_) {
        surface_->update();
    } else {
        update();
    }
}

void VtkHostWidget::initializeGraphics()
{
    window_->SetReadyForRendering(false);
    window_->SetIsCurrent(true);
    window_->OpenGLInitContext();
    initialized_ = true;
    if (!interactor_->GetInitialized()) {
        interactor_->Initialize();
    }
}

void VtkHostWidget::resizeGraphics(int device_width, int device_height)
{
    const double ratio = devicePixelRatioF();
    interactor_->UpdateSize(device_width, device_height);
    window_->SetSize(device_width, device_height);
    if (const QScreen* current = screen()) {
        window_->SetScreenSize(static_cast<int>(current->size().width() * ratio),
                               static_cast<int>(current->size().height() * ratio));
    }
    window_->SetDPI(static_cast<int>(72 * ratio));
    graphicsResized(device_width, device_height);
}

void VtkHostWidget::renderIntoCurrentFramebuffer()
{
    if (!initialized_) {
        return;
    }
    static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT");
    QElapsedTimer timer;
    timer.start();
    in_paint_ = true;
    window_->SetReadyForRendering(true);
    window_->SetIsCurrent(true);
    vtkOpenGLState* state = window_->GetState();
    // Qt changed GL state (framebuffer, viewport, ...) behind VTK's back.
    state->Reset();
    state->Push();
    state->vtkglDepthFunc(GL_LEQUAL);
    window_->Render();
    ++render_count_;
    state->Pop();
    rendered();
    // Opaque alpha: Mesa and compositors would blend a partly transparent frame.
    // (Readback clears alpha in VTK's framebuffer instead, see renderOffscreen.)
    if (!opaque_scene_ && surface_) {
        state->vtkglColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
        state->vtkglClearColor(0.0f, 0.0f, 0.0f, 1.0f);
        state->vtkglClear(GL_COLOR_BUFFER_BIT);
        state->vtkglColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    }
    window_->SetReadyForRendering(false);
    in_paint_ = false;
    if (trace) {
        std::fprintf(stderr, "TRACE paint %s %.2f ms\n", qPrintable(objectName()),
                     static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
}

bool VtkHostWidget::ensureOffscreen()
{
    if (offscreen_) {
        return makeContextCurrent();
    }
    offscreen_ = std::make_unique<Offscreen>();
    offscreen_->context.setFormat(QSurfaceFormat::defaultFormat());
    offscreen_->surface.setFormat(QSurfaceFormat::defaultFormat());
    offscreen_->surface.create();
    if (!offscreen_->context.create() || !offscreen_->context.makeCurrent(&offscreen_->surface)) {
        offscreen_.reset();
        return false;
    }
    initializeGraphics();
    return true;
}

std::optional<QSize> VtkHostWidget::prepareOffscreen()
{
    const double ratio = devicePixelRatioF();
    const QSize device(std::max(1, static_cast<int>(std::lround(width() * ratio))),
                       std::max(1, static_cast<int>(std::lround(height() * ratio))));
    if (!ensureOffscreen()) {
        return std::nullopt;
    }
    if (graphics_size_ != device) {
        graphics_size_ = device;
        resizeGraphics(device.width(), device.height());
    }
    return device;
}

bool VtkHostWidget::renderOffscreen()
{
    const std::optional<QSize> prepared = prepareOffscreen();
    if (!prepared) {
        return false;
    }
    const QSize device = *prepared;
    const double ratio = devicePixelRatioF();
    renderIntoCurrentFramebuffer();
    // The frame is still in VTK's own render framebuffer (no swap, no blit:
    // each full-frame blit is a pass of the rasteriser): read it from there.
    static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT");
    QElapsedTimer timer;
    timer.start();
    vtkOpenGLFramebufferObject* rendered = window_->GetRenderFramebuffer();
    if (rendered == nullptr) {
        return false;
    }
    auto* gl = offscreen_->context.extraFunctions();
    const GLuint index = rendered->GetFBOIndex();
    if (!opaque_scene_) {
        // Opaque alpha (VTK's background alpha is 0), as QImage::Format_RGB32 requires.
        gl->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, index);
        gl->glDisable(GL_SCISSOR_TEST);
        gl->glColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
        gl->glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
        gl->glClear(GL_COLOR_BUFFER_BIT);
        gl->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
        gl->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
    }
    // BGRA packed in 32-bit words (8_8_8_8_REV) is QImage's RGB32 (0xffRRGGBB)
    // on any byte order, the raster window's own format: painting it is a copy.
    QImage pixels(device, QImage::Format_RGB32);
    gl->glBindFramebuffer(GL_READ_FRAMEBUFFER, index);
    gl->glReadBuffer(GL_COLOR_ATTACHMENT0);
    gl->glPixelStorei(GL_PACK_ALIGNMENT, 4);
    gl->glReadPixels(0, 0, device.width(), device.height(), GL_BGRA, GL_UNSIGNED_INT_8_8_8_8_REV,
                     pixels.bits());
    gl->glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    frame_ = pixels.mirrored(false, true); // OpenGL rows run bottom-up
    frame_.setDevicePixelRatio(ratio);
    if (trace) {
        std::fprintf(stderr, "TRACE readback %s %.2f ms (%s)\n", qPrintable(objectName()),
                     static_cast<double>(timer.nsecsElapsed()) / 1e6,
                     qPrintable(QString::number(static_cast<int>(frame_.format()))));
    }
    return true;
}

void VtkHostWidget::paintEvent(QPaintEvent* event)
{
    if (surface_) {
        QWidget::paintEvent(event); // the child QOpenGLWidget covers the widget
        return;
    }
    QPainter painter(this);
    if (isVisible() && renderOffscreen()) {
        static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT");
        QElapsedTimer timer;
        timer.start();
        painter.drawImage(QPointF(0, 0), frame_);
        if (trace) {
            std::fprintf(stderr, "TRACE draw image %s %.2f ms\n", qPrintable(objectName()),
                         static_cast<double>(timer.nsecsElapsed()) / 1e6);
        }
    } else {
        painter.fillRect(rect(), Qt::black);
    }
    // frameSwapped once this paint cycle has been flushed to the window. Qt
    // paints and flushes a window while handling its UpdateRequest: a filter
    // on the window handles that event itself and then signals the frames it
    // painted (FlushWatcher). A posted event covers paints outside it
    // (repaint(), grabs); whichever comes first signals, once.
    if (!frame_signal_pending_) {
        frame_signal_pending_ = true;
        QCoreApplication::postEvent(this, new QEvent(frameShownEventType()), Qt::HighEventPriority);
    }
    FlushWatcher::watch(window());
}

void VtkHostWidget::signalFrameIfPending()
{
    if (frame_signal_pending_) {
        frame_signal_pending_ = false;
        static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT");
        if (trace) {
            std::fprintf(stderr, "TRACE frame shown %s\n", qPrintable(objectName()));
        }
        emit frameSwapped();
    }
}

bool VtkHostWidget::event(QEvent* event)
{
    if (event->type() == frameShownEventType()) {
        signalFrameIfPending();
        return true;
    }
    return QWidget::event(event);
}

void VtkHostWidget::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (surface_) {
        surface_->setGeometry(rect()); // its resizeGL follows
        return;
    }
    // Readback: the render window takes the new size at once (as a
    // QOpenGLWidget's resizeGL does), so that coordinate mappings are right
    // before the next frame.
    prepareOffscreen();
}

QImage VtkHostWidget::grabFramebuffer()
{
    if (surface_) {
        return surface_->grabFramebuffer();
    }
    if (!renderOffscreen()) {
        return {};
    }
    QImage image = frame_;
    image.setDevicePixelRatio(1.0);
    return image;
}

void VtkHostWidget::forwardMouse(QMouseEvent* event, unsigned long vtk_event)
{
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position() * ratio;
    const Qt::KeyboardModifiers mods = event->modifiers();
    const int repeat = event->type() == QEvent::MouseButtonDblClick ? 1 : 0;
    interactor_->SetEventInformationFlipY(static_cast<int>(p.x()), static_cast<int>(p.y()),
                                          (mods & Qt::ControlModifier) ? 1 : 0,
                                          (mods & Qt::ShiftModifier) ? 1 : 0, 0, repeat);
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    interactor_->InvokeEvent(vtk_event, event);
}

void VtkHostWidget::forwardWheel(QWheelEvent* event)
{
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position() * ratio;
    const Qt::KeyboardModifiers mods = event->modifiers();
    interactor_->SetEventInformationFlipY(static_cast<int>(p.x()), static_cast<int>(p.y()),
                                          (mods & Qt::ControlModifier) ? 1 : 0,
                                          (mods & Qt::ShiftModifier) ? 1 : 0);
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    wheel_accumulator_ += event->angleDelta().y();
    while (wheel_accumulator_ >= 120) {
        interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent, event);
        wheel_accumulator_ -= 120;
    }
    while (wheel_accumulator_ <= -120) {
        interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, event);
        wheel_accumulator_ += 120;
    }
    event->accept();
}

void VtkHostWidget::forwardKey(QKeyEvent* event, bool press)
{
    const Qt::KeyboardModifiers mods = event->modifiers();
    const std::string symbol = key_symbol(event);
    const QString text = event->text();
    const char code =
        text.size() == 1 && text.at(0).unicode() < 128 ? static_cast<char>(text.at(0).unicode()) : 0;
    interactor_->SetKeyEventInformation(
        (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0, code,
        event->isAutoRepeat() ? 1 : 0, symbol.empty() ? nullptr : symbol.c_str());
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    interactor_->InvokeEvent(press ? vtkCommand::KeyPressEvent : vtkCommand::KeyReleaseEvent, event);
    if (press && code != 0) {
        interactor_->InvokeEvent(vtkCommand::CharEvent, event);
    }
}

void VtkHostWidget::mousePressEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QWidget::mousePressEvent(event);
        return;
    }
    switch (event->button()) {
    case Qt::LeftButton: forwardMouse(event, vtkCommand::LeftButtonPressEvent); break;
    case Qt::MiddleButton: forwardMouse(event, vtkCommand::MiddleButtonPressEvent); break;
    case Qt::RightButton: forwardMouse(event, vtkCommand::RightButtonPressEvent); break;
    default: break;
    }
}

void VtkHostWidget::mouseReleaseEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QWidget::mouseReleaseEvent(event);
        return;
    }
    switch (event->button()) {
    case Qt::LeftButton: forwardMouse(event, vtkCommand::LeftButtonReleaseEvent); break;
    case Qt::MiddleButton: forwardMouse(event, vtkCommand::MiddleButtonReleaseEvent); break;
    case Qt::RightButton: forwardMouse(event, vtkCommand::RightButtonReleaseEvent); break;
    default: break;
    }
}

void VtkHostWidget::mouseMoveEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QWidget::mouseMoveEvent(event);
        return;
    }
    forwardMouse(event, vtkCommand::MouseMoveEvent);
}

void VtkHostWidget::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QWidget::mouseDoubleClickEvent(event);
        return;
    }
    mousePressEvent(event);
}

void VtkHostWidget::wheelEvent(QWheelEvent* event)
{
    if (!forward_events_) {
        QWidget::wheelEvent(event);
        return;
    }
    forwardWheel(event);
}

void VtkHostWidget::keyPressEvent(QKeyEvent* event)
{
    if (!forward_events_) {
        QWidget::keyPressEvent(event);
        return;
    }
    forwardKey(event, true);
}

void VtkHostWidget::keyReleaseEvent(QKeyEvent* event)
{
    if (!forward_events_) {
        QWidget::keyReleaseEvent(event);
        return;
    }
    forwardKey(event, false);
}

void VtkHostWidget::enterEvent(QEnterEvent* event)
{
    if (forward_events_) {
        interactor_->InvokeEvent(vtkCommand::EnterEvent, event);
    }
    QWidget::enterEvent(event);
}

void VtkHostWidget::leaveEvent(QEvent* event)
{
    if (forward_events_) {
        interactor_->InvokeEvent(vtkCommand::LeaveEvent, event);
    }
    QWidget::leaveEvent(event);
}

} // namespace masklens::ui
