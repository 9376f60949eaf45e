/*
 * The annuaire's maps (templates directory/_annuaire_map.html and annuaire_detail.html).
 *
 * #annuaire-map: the results of a search, loaded by viewport from data-url (the same query
 * string as the result list) + "&bbox=west,south,east,north". The server answers points
 * (clustered here with leaflet.markercluster) or, when there are too many, clusters it
 * computed. Reads everything from data attributes (no inline script: CSP):
 *   data-url, data-detail-url ("…/KIND/0/", the entry page), data-tile-url (empty = no
 *   tiles: markers on a plain background), data-tile-attribution, data-origin-lat/-lon and
 *   data-radius-km (a search around a commune), data-label-* (French texts).
 * The result list (#annuaire-results) and the map are linked: "Voir sur la carte" (or
 * focusing a result) highlights its marker; clicking a marker highlights its result.
 * When a load is done: data-loaded="true", data-marker-count (points), data-cluster-count
 * (server clusters) and data-total (browser tests wait on them); on failure
 * data-loaded="error" and a message is shown.
 *
 * #annuaire-entry-map: one entry's position (data-lat, data-lon, data-name).
 * Requires Leaflet and leaflet.markercluster (static/vendor), loaded by the page.
 */
(function () {
  "use strict";

  var FRANCE = [46.6, 2.4];
  var ZOOM_ON_SELECT = 15;
  var MAX_ZOOM = 19;

  function icon(selected) {
    return window.L.divIcon({
      className: "annuaire-marker" + (selected ? " is-selected" : ""),
      html: '<span class="annuaire-marker-dot"></span>',
      iconSize: [30, 30]
    });
  }

  function addTiles(map, container) {
    if (container.dataset.tileUrl) {
      window.L.tileLayer(container.dataset.tileUrl, {
        attribution: container.dataset.tileAttribution || "",
        maxZoom: MAX_ZOOM
      }).addTo(map);
    }
  }

  function showMessage(container, text) {
    var old = container.querySelector(".annuaire-map-message");
    if (old) {
      old.remove();
    }
    if (!text) {
      return;
    }
    var message = document.createElement("p");
    message.className = "annuaire-map-message";
    message.setAttribute("role", "status");
    message.textContent = text;
    container.appendChild(message);
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function SearchMap(container) {
    this.container = container;
    this.list = document.getElementById("annuaire-results");
    this.labels = {
      see: container.dataset.labelSee || "",
      cluster: container.dataset.labelCluster || "",
      error: container.dataset.labelError || ""
    };
    this.markers = {}; // entry id -> marker
    this.selected = null;
    this.pending = null; // an entry to show once its marker is loaded
    this.request = null;
    this.timer = null;
  }

  SearchMap.prototype.start = function () {
    var L = window.L;
    // maxZoom: without tiles the map has none, and marker clusters need one.
    this.map = L.map(this.container, { scrollWheelZoom: false, maxZoom: MAX_ZOOM });
    addTiles(this.map, this.container);
    this.points = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
    this.clusters = L.layerGroup();
    this.map.addLayer(this.points);
    this.map.addLayer(this.clusters);
    this.initialView();
    this.map.on("moveend", this.schedule.bind(this));
    this.linkList();
    this.load();
  };

  SearchMap.prototype.initialView = function () {
    var L = window.L;
    var data = this.container.dataset;
    if (data.originLat && data.originLon) {
      var origin = L.latLng(parseFloat(data.originLat), parseFloat(data.originLon));
      var radius = parseFloat(data.radiusKm || "10") * 1000;
      L.circle(origin, { radius: radius, className: "annuaire-radius", fill: false, weight: 1 })
        .addTo(this.map);
      this.map.fitBounds(origin.toBounds(radius * 2));
      return;
    }
    var positions = [];
    this.resultItems().forEach(function (item) {
      if (item.dataset.lat && item.dataset.lon) {
        positions.push([parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)]);
      }
    });
    if (positions.length) {
      this.map.fitBounds(L.latLngBounds(positions), { padding: [24, 24], maxZoom: 14 });
    } else {
      this.map.setView(FRANCE, 6);
    }
  };

  SearchMap.prototype.resultItems = function () {
    return this.list ? Array.prototype.slice.call(this.list.querySelectorAll("[data-entry-id]")) : [];
  };

  SearchMap.prototype.schedule = function () {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(this.load.bind(this), 200);
  };

  SearchMap.prototype.bbox = function () {
    var bounds = this.map.getBounds();
    var west = clamp(bounds.getWest(), -180, 180);
    var east = clamp(bounds.getEast(), -180, 180);
    var south = clamp(bounds.getSouth(), -90, 90);
    var north = clamp(bounds.getNorth(), -90, 90);
    return [west, south, east, north].map(function (value) { return value.toFixed(5); }).join(",");
  };

  SearchMap.prototype.load = function () {
    var self = this;
    if (this.request) {
      this.request.abort();
    }
    var controller = new AbortController();
    this.request = controller;
    this.container.dataset.loaded = "loading";
    fetch(this.container.dataset.url + "&bbox=" + this.bbox(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.detail || self.labels.error);
          }
          return body;
        });
      })
      .then(function (body) {
        self.request = null;
        showMessage(self.container, "");
        self.draw(body);
      })
      .catch(function (error) {
        if (error.name === "AbortError") {
          return;
        }
        self.request = null;
        self.container.dataset.loaded = "error";
        showMessage(self.container, error.message || self.labels.error);
      });
  };

  SearchMap.prototype.draw = function (body) {
    var L = window.L;
    var self = this;
    var wanted = {};
    var added = [];
    (body.points || []).forEach(function (point) {
      wanted[point.id] = true;
      if (!self.markers[point.id]) {
        var marker = self.marker(point);
        self.markers[point.id] = marker;
        added.push(marker);
      }
    });
    Object.keys(this.markers).forEach(function (id) {
      if (!wanted[id]) {
        self.points.removeLayer(self.markers[id]);
        delete self.markers[id];
      }
    });
    this.points.addLayers(added);
    this.clusters.clearLayers();
    (body.clusters || []).forEach(function (cluster) {
      self.clusters.addLayer(self.serverCluster(cluster, L));
    });
    var data = this.container.dataset;
    data.markerCount = String((body.points || []).length);
    data.clusterCount = String((body.clusters || []).length);
    data.total = String(body.total || 0);
    data.loaded = "true";
    if (this.pending && this.markers[this.pending]) {
      var pending = this.pending;
      this.pending = null;
      this.reveal(pending);
    }
  };

  SearchMap.prototype.detailUrl = function (id) {
    var cut = id.lastIndexOf("-");
    var path = id.slice(0, cut) + "/" + id.slice(cut + 1) + "/";
    var url = this.container.dataset.detailUrl.replace("KIND/0/", path);
    var search = window.location.search.slice(1);
    return search ? url + "?retour=" + encodeURIComponent(search) : url;
  };

  // Built with DOM nodes, never HTML strings: names are data, not markup.
  SearchMap.prototype.popup = function (point) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = point.name;
    box.appendChild(name);
    box.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = this.detailUrl(point.id);
    link.textContent = this.labels.see;
    box.appendChild(link);
    return box;
  };

  SearchMap.prototype.marker = function (point) {
    var self = this;
    var selected = point.id === this.selected;
    var marker = window.L.marker([point.latitude, point.longitude], {
      icon: icon(selected),
      title: point.name,
      keyboard: true,
      zIndexOffset: selected ? 1000 : 0
    });
    marker.entryId = point.id;
    marker.bindPopup(this.popup(point));
    marker.on("add", function () {
      var element = marker.getElement();
      if (element) {
        element.setAttribute("aria-label", point.name);
        element.dataset.entryId = point.id;
      }
    });
    marker.on("click", function () {
      self.highlight(point.id, true);
    });
    return marker;
  };

  SearchMap.prototype.serverCluster = function (cluster, L) {
    var map = this.map;
    var count = Number(cluster.count) || 0;
    var size = count < 100 ? "small" : count < 1000 ? "medium" : "large";
    var latlng = L.latLng(cluster.latitude, cluster.longitude);
    var marker = L.marker(latlng, {
      icon: L.divIcon({
        className: "marker-cluster marker-cluster-" + size,
        html: "<div><span>" + count + "</span></div>",
        iconSize: [40, 40]
      }),
      title: count + " " + this.labels.cluster,
      keyboard: true
    });
    marker.on("click", function () {
      map.setView(latlng, Math.min(map.getZoom() + 2, 18));
    });
    return marker;
  };

  // Mark an entry as selected on the map and in the list (no move).
  SearchMap.prototype.highlight = function (id, fromMap) {
    var previous = this.selected && this.markers[this.selected];
    if (previous && this.selected !== id) {
      previous.setIcon(icon(false));
      previous.setZIndexOffset(0);
    }
    this.selected = id;
    var marker = this.markers[id];
    if (marker) {
      marker.setIcon(icon(true));
      marker.setZIndexOffset(1000);
    }
    this.resultItems().forEach(function (item) {
      var isIt = item.dataset.entryId === id;
      item.classList.toggle("is-selected", isIt);
      if (isIt && fromMap) {
        item.scrollIntoView({ block: "nearest" });
      }
    });
  };

  // Show an entry's marker: zoom into its cluster, or move there and load it first.
  SearchMap.prototype.reveal = function (id, item) {
    var marker = this.markers[id];
    this.highlight(id, false);
    if (marker) {
      this.points.zoomToShowLayer(marker, function () {
        marker.openPopup();
      });
      return;
    }
    if (item && item.dataset.lat && item.dataset.lon) {
      this.pending = id;
      this.map.setView(
        [parseFloat(item.dataset.lat), parseFloat(item.dataset.lon)],
        Math.max(this.map.getZoom(), ZOOM_ON_SELECT)
      );
    }
  };

  SearchMap.prototype.linkList = function () {
    var self = this;
    if (!this.list) {
      return;
    }
    this.list.querySelectorAll(".annuaire-show").forEach(function (button) {
      button.hidden = false;
    });
    this.list.addEventListener("click", function (event) {
      var button = event.target.closest(".annuaire-show");
      if (button) {
        var item = button.closest("[data-entry-id]");
        self.reveal(item.dataset.entryId, item);
      }
    });
    this.list.addEventListener("focusin", function (event) {
      var item = event.target.closest("[data-entry-id]");
      if (item && item.dataset.entryId !== self.selected) {
        self.highlight(item.dataset.entryId, false);
      }
    });
  };

  function entryMap(container) {
    var L = window.L;
    var position = [parseFloat(container.dataset.lat), parseFloat(container.dataset.lon)];
    var map = L.map(container, { scrollWheelZoom: false, maxZoom: MAX_ZOOM })
      .setView(position, ZOOM_ON_SELECT);
    addTiles(map, container);
    L.marker(position, { icon: icon(true), title: container.dataset.name || "", keyboard: false })
      .addTo(map);
    container.dataset.loaded = "true";
  }

  function start() {
    var search = document.getElementById("annuaire-map");
    var entry = document.getElementById("annuaire-entry-map");
    if (!window.L) {
      [search, entry].forEach(function (container) {
        if (container) {
          container.dataset.loaded = "error";
          showMessage(container, container.dataset.labelError || "");
        }
      });
      return;
    }
    if (search && !search.dataset.loaded) {
      new SearchMap(search).start();
    }
    if (entry && !entry.dataset.loaded) {
      entryMap(entry);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
